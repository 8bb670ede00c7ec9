"""Inbound events: the platform event ids already processed, so a redelivered event changes nothing."""

from __future__ import annotations

from sqlalchemy import bindparam, text

from bot.model import Platform
from bot.storage.engine import Queries
from bot.storage.tables import UTCDateTime

#: Written as text because SQLAlchemy never caches an ``on_conflict_do_nothing()`` INSERT: built
#: that way, every inbound event paid a fresh SQL compile. Both databases speak this ON CONFLICT.
_CLAIM_EVENT = text(
    "INSERT INTO inbound_events (platform, event_id, received_at) VALUES (:platform, :event_id, :received_at)"
    " ON CONFLICT DO NOTHING"
).bindparams(bindparam("received_at", type_=UTCDateTime()))


class EventQueries(Queries):
    """Claiming an inbound event once."""

    async def claim_event(self, platform: Platform, event_id: str) -> bool:
        """Record an inbound event; False when it was processed before."""
        values = {"platform": platform, "event_id": event_id, "received_at": self.now}
        result = await self._c.execute(_CLAIM_EVENT, values)
        return bool(result.rowcount == 1)
