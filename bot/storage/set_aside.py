"""Set-aside events: inbound events the relay could not take in after a few tries, kept for an admin.

A row says which event (platform and event id), what kind, and the error's class;
``payload`` keeps the event itself so ``civic-bridge events retry`` can take it in
again. The payload holds message text and names: lists never show it, and it is
erased with the citizen and purged after the retention period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from bot.event_codec import event_from_json, event_to_json
from bot.events import CitizenCommand, CitizenMessage, InboundEvent, MenuChoice
from bot.model import Platform
from bot.storage.engine import Queries
from bot.storage.tables import inbound_events, set_aside_events


@dataclass(frozen=True, slots=True)
class SetAside:
    """One set-aside event as an admin sees it: no text, no names."""

    id: int
    platform: Platform
    event_id: str
    kind: str
    error: str
    tries: int
    set_aside_at: datetime


def _row(row: Any) -> SetAside:  # noqa: ANN401  # a SQLAlchemy row
    return SetAside(
        id=int(row.id),
        platform=Platform(row.platform),
        event_id=row.event_id,
        kind=row.kind,
        error=row.error,
        tries=int(row.tries),
        set_aside_at=row.set_aside_at,
    )


class SetAsideQueries(Queries):
    """Keeping, listing, taking back and erasing set-aside events."""

    async def set_aside(self, platform: Platform, event: InboundEvent, *, error: str, tries: int) -> None:
        """Keep ``event`` aside (once per platform and event id)."""
        citizen = event.sender if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice) else None
        await self._c.execute(
            insert(set_aside_events),
            {
                "platform": platform,
                "event_id": event.event_id,
                "kind": type(event).__name__,
                "error": error[:200],
                "tries": tries,
                "citizen_platform": citizen.platform if citizen else None,
                "citizen_user_id": citizen.user_id if citizen else None,
                "payload": event_to_json(event),
                "set_aside_at": self.now,
            },
        )

    async def set_aside_events(self) -> list[SetAside]:
        """Every set-aside event, oldest first."""
        query = select(set_aside_events).order_by(set_aside_events.c.id)
        return [_row(row) for row in await self._c.execute(query)]

    async def set_aside_count(self) -> int:
        """How many events are set aside (for /healthz)."""
        return int((await self._c.execute(select(func.count()).select_from(set_aside_events))).scalar_one())

    async def take_back_set_aside(self, set_aside_id: int) -> InboundEvent | None:
        """Remove a set-aside event and its claim, and return it to be taken in again (None: no such event)."""
        row = (
            await self._c.execute(select(set_aside_events).where(set_aside_events.c.id == set_aside_id))
        ).one_or_none()
        if row is None or not row.payload:
            return None
        await self._c.execute(delete(set_aside_events).where(set_aside_events.c.id == set_aside_id))
        await self._c.execute(
            delete(inbound_events).where(
                inbound_events.c.platform == row.platform, inbound_events.c.event_id == row.event_id
            )
        )
        return event_from_json(dict(row.payload))

    async def erase_set_aside_of(self, platform: Platform, user_id: str) -> int:
        """Erase what a citizen's set-aside events hold (payload and user id); returns how many."""
        result = await self._c.execute(
            delete(set_aside_events).where(
                set_aside_events.c.citizen_platform == platform, set_aside_events.c.citizen_user_id == user_id
            )
        )
        return int(result.rowcount)

    async def purge_set_aside(self, *, before: datetime) -> int:
        """Erase set-aside events older than ``before`` (the retention period); returns how many."""
        result = await self._c.execute(delete(set_aside_events).where(set_aside_events.c.set_aside_at < before))
        return int(result.rowcount)
