"""Claiming bulk deliveries within a platform's send budget, shared by every process through ``send_budgets``.

The budget is a virtual clock per platform (``next_slot``): each claimed bulk send takes the next
slot and pushes it 1/rate seconds on, under the budget row's lock, so processes claiming side by
side get slots that never overlap. A claim takes the slots that come within ``look_ahead``; the
worker sends each at its slot. Two bulk sends to one chat are kept ``chat_interval`` apart by a
pause keyed by the row's lane (``target_pauses``), which case traffic never looks at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.bulk import BulkLimit
from bot.model import Delivery, DeliveryState
from bot.storage.engine import Queries
from bot.storage.outbox import BULK_PRIORITY, delivery_from_row, lane_head_and_free
from bot.storage.tables import deliveries, send_budgets, target_pauses


@dataclass(frozen=True, slots=True)
class PacedDelivery:
    """A claimed bulk delivery and the moment its turn comes (send it then, not before)."""

    delivery: Delivery
    send_at: datetime


def _claim_bulk_statement(*, skip_locked: bool) -> Any:  # noqa: ANN401  # an UPDATE … RETURNING
    """Pick one platform's due bulk rows (lane heads, not paused, not spaced), oldest first; push their lease."""
    due = deliveries.alias("due")
    blocked, paused = lane_head_and_free(due)  # paused: the platform said 429 for this chat
    spaced = exists().where(  # the chat had a bulk send less than ``chat_interval`` ago
        target_pauses.c.target == due.c.lane,
        target_pauses.c.until > bindparam("p_now"),
    )
    pick = (
        select(due.c.id)
        .where(
            due.c.target_platform == bindparam("p_platform"),
            due.c.priority == BULK_PRIORITY,
            due.c.state == DeliveryState.PENDING.value,
            due.c.next_attempt_at <= bindparam("p_now"),
            ~blocked,
            ~paused,
            ~spaced,
        )
        .order_by(due.c.next_attempt_at, due.c.id)
        .limit(bindparam("p_limit"))
    )
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True, of=due)
    return (
        update(deliveries)
        .where(deliveries.c.id.in_(pick.scalar_subquery()))
        .values(
            next_attempt_at=bindparam("p_lease_end"), attempts=deliveries.c.attempts + 1, updated_at=bindparam("p_now")
        )
        .returning(*deliveries.c)
    )


_CLAIM_BULK = {skip: _claim_bulk_statement(skip_locked=skip) for skip in (False, True)}
_FIRST_DUE = (
    select(deliveries.c.next_attempt_at)
    .where(
        deliveries.c.target_platform == bindparam("p_platform"),
        deliveries.c.priority == BULK_PRIORITY,
        deliveries.c.state == DeliveryState.PENDING.value,
    )
    .order_by(deliveries.c.next_attempt_at)
    .limit(1)
)


class BulkQueries(Queries):
    """Bulk claims within the platform's budget, when the next one can succeed, and holding a platform back."""

    async def claim_bulk(
        self, platform: str, limit: BulkLimit, *, most: int, look_ahead: float, lease: timedelta, skip_locked: bool
    ) -> list[PacedDelivery]:
        """Up to ``most`` due bulk deliveries to ``platform``, each with its slot in the platform's budget."""
        first = (await self._c.execute(_FIRST_DUE, {"p_platform": platform})).scalar_one_or_none()
        if first is None or first > self.now:
            return []
        rate = limit.per_second
        start = self.now
        if rate is not None:
            start = max(await self._budget(platform), self.now)
            horizon = (self.now - start).total_seconds() + look_ahead
            most = min(most, math.floor(horizon * rate) + 1) if horizon >= 0 else 0
        if most <= 0:
            return []
        parameters = {
            "p_platform": platform,
            "p_now": self.now,
            "p_lease_end": self.now + lease,
            "p_limit": most,
        }
        rows = sorted(await self._c.execute(_CLAIM_BULK[skip_locked], parameters), key=lambda row: row.id)
        step = timedelta(seconds=1 / rate) if rate is not None else timedelta(0)
        paced = [PacedDelivery(delivery_from_row(row), start + step * n) for n, row in enumerate(rows)]
        if rate is not None and paced:
            await self._c.execute(
                update(send_budgets)
                .where(send_budgets.c.platform == platform)
                .values(next_slot=start + step * len(paced))
            )
        if limit.chat_interval > 0 and paced:
            interval = timedelta(seconds=limit.chat_interval)
            await self._space([(p.delivery.lane, p.send_at + interval) for p in paced])
        return paced

    async def next_bulk_at(self, platform: str, limit: BulkLimit, *, look_ahead: float) -> datetime | None:
        """When a bulk claim for ``platform`` may next find something: its first due row, once the budget allows."""
        first: datetime | None = (await self._c.execute(_FIRST_DUE, {"p_platform": platform})).scalar_one_or_none()
        if first is None or limit.per_second is None:
            return first
        slot: datetime | None = (
            await self._c.execute(select(send_budgets.c.next_slot).where(send_budgets.c.platform == platform))
        ).scalar_one_or_none()
        return first if slot is None else max(first, slot - timedelta(seconds=look_ahead))

    async def hold_bulk(self, platform: str, until: datetime) -> None:
        """No bulk send to ``platform`` before ``until``, in any process (the platform said slow down)."""
        await self._budget(platform)
        await self._c.execute(
            update(send_budgets)
            .where(send_budgets.c.platform == platform, send_budgets.c.next_slot < until)
            .values(next_slot=until)
        )

    async def _budget(self, platform: str) -> datetime:
        """The platform's next free slot, its budget row locked until this transaction ends (made if missing)."""
        insert = pg_insert if self._c.dialect.name == "postgresql" else sqlite_insert
        await self._c.execute(
            insert(send_budgets).values(platform=platform, next_slot=self.now).on_conflict_do_nothing()
        )
        query = select(send_budgets.c.next_slot).where(send_budgets.c.platform == platform).with_for_update()
        value = (await self._c.execute(query)).scalar_one()
        assert isinstance(value, datetime)  # noqa: S101  # a UTCDateTime column
        return value

    async def _space(self, marks: list[tuple[str, datetime]]) -> None:
        """Pause each lane until its mark: the next bulk send to that chat waits (case traffic does not)."""
        if self._c.dialect.name == "postgresql":
            statement: Any = pg_insert(target_pauses).values(target=bindparam("t"), until=bindparam("u"))
        else:
            statement = sqlite_insert(target_pauses).values(target=bindparam("t"), until=bindparam("u"))
        statement = statement.on_conflict_do_update(index_elements=["target"], set_={"until": statement.excluded.until})
        await self._c.execute(statement, [{"t": lane, "u": until} for lane, until in marks])
