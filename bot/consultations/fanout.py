"""The one place broadcasts enter the outbox: one delivery per chat, in lanes that never hold up a case."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from bot.model import Address, CitizenReply, DeliveryState, Side
from bot.storage.codec import body_to_json
from bot.storage.store import Tx
from bot.storage.tables import deliveries

#: Rows per ``executemany``: a broadcast to 100,000 chats is 100 statements, not 100,000 transactions.
BATCH = 1000


def bulk_lane(chat: Address) -> str:
    """A chat's broadcasts go out in order among themselves, beside (not behind) its case lane ``chat:…``."""
    return f"bulk:{chat.platform}:{chat.chat}"


def is_bulk(lane: str) -> bool:
    """Whether an outbox lane carries broadcasts."""
    return lane.startswith("bulk:")


async def enqueue_broadcast(tx: Tx, items: Sequence[tuple[Address, CitizenReply]]) -> int:
    """Queue one citizen-side delivery per (chat, body), no case, in batches; how many were queued.

    Bodies shared by many chats (one per language and platform) are encoded once.
    """
    encoded: dict[int, dict[str, object]] = {}
    rows = []
    for chat, body in items:
        data = encoded.setdefault(id(body), body_to_json(body))
        rows.append(
            {
                "case_id": None,
                "message_id": None,
                "side": Side.CITIZEN.value,
                "lane": bulk_lane(chat),
                "target_platform": chat.platform,
                "target_chat": chat.chat,
                "target_thread": None,
                "in_case_thread": False,
                "body": data,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": tx.now,
                "last_error": None,
                "sent_id": None,
                "created_at": tx.now,
                "updated_at": tx.now,
            }
        )
    for start in range(0, len(rows), BATCH):
        await tx.connection.execute(insert(deliveries), rows[start : start + BATCH])
    return len(rows)
