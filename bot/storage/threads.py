"""A case's department thread taken from its root when the root's own recording has not happened yet."""

from __future__ import annotations

from sqlalchemy import update

from bot.model import Address, CaseId, DeliveryState, Side
from bot.storage.engine import Queries
from bot.storage.tables import cases, deliveries


class ThreadQueries(Queries):
    """Adopting a thread for a case whose root was posted but not yet recorded."""

    async def adopt_thread(self, case_id: CaseId, thread: Address) -> bool:
        """Make ``thread`` (whose root names this case) the case's thread, unless it has one; True if it did."""
        result = await self._c.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.thread_id.is_(None))
            .values(
                thread_platform=thread.platform,
                thread_chat=thread.chat,
                thread_id=thread.thread,
                root_id=thread.thread,
            )
        )
        return bool(result.rowcount == 1)

    async def drop_pending_posts(self, case_id: CaseId, *, reason: str) -> int:
        """Give up the department-side posts still pending for a case (its thread will never exist there)."""
        result = await self._c.execute(
            update(deliveries)
            .where(
                deliveries.c.case_id == case_id,
                deliveries.c.side == Side.DEPARTMENT.value,
                deliveries.c.state == DeliveryState.PENDING.value,
            )
            .values(state=DeliveryState.FAILED.value, last_error=reason, updated_at=self.now)
        )
        return int(result.rowcount)
