"""The one place broadcasts enter the outbox: one bulk delivery per chat, in lanes that never hold up a case.

Bulk rows (``OutboxQueries.enqueue_bulk``) go out behind case traffic and within each platform's shared
send budget (``bot/bulk.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.model import Address, CitizenReply, Delivery, Side
from bot.storage.outbox import bulk_lane
from bot.storage.store import Tx

__all__ = ["bulk_lane", "enqueue_broadcast", "is_bulk"]


def is_bulk(delivery: Delivery) -> bool:
    """Whether an outbox row carries a broadcast."""
    return delivery.bulk


async def enqueue_broadcast(tx: Tx, items: Sequence[tuple[Address, CitizenReply]]) -> int:
    """Queue one citizen-side bulk delivery per (chat, body), no case; how many were queued."""
    return await tx.enqueue_bulk(Side.CITIZEN, items)
