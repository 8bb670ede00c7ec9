"""Inbound events: the platform event ids already processed, so a redelivered event changes nothing."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.model import Platform
from bot.storage.engine import Queries
from bot.storage.tables import inbound_events

_CLAIM_EVENT = {
    "postgresql": pg_insert(inbound_events).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(inbound_events).on_conflict_do_nothing(),
}


class EventQueries(Queries):
    """Claiming an inbound event once."""

    async def claim_event(self, platform: Platform, event_id: str) -> bool:
        """Record an inbound event; False when it was processed before."""
        values = {"platform": platform, "event_id": event_id, "received_at": self.now}
        result = await self._c.execute(_CLAIM_EVENT[self._c.dialect.name], values)
        return bool(result.rowcount == 1)
