"""Posts that were on their way to staff when their words were erased: edited to "[erased]" once they are out.

An erasure rewrites every post still waiting in the outbox, but a post already claimed by a
delivery worker (anywhere) goes out as it was claimed. Such an erasure leaves a due job; by the
time it is due every send under way then has been recorded (or its lease ran out, and it goes
again, erased), and the job puts "[erased]" over each post that went out since and is not covered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select

from bot.model import Address, DeliveryState, Platform, PostKind, Side, ThreadPost
from bot.storage.codec import body_from_json
from bot.storage.store import Tx
from bot.storage.tables import deliveries

#: The due job's kind.
ERASE_SENT_JOB = "erase-sent"
#: How long after the erasure the job looks: the delivery worker's lease (120 s) and a margin.
LOOK_AFTER = timedelta(seconds=150)
#: What erased text reads; the posts whose text an erasure replaces.
ERASED = "[erased]"
_ERASABLE = frozenset({PostKind.ROOT, PostKind.CITIZEN, PostKind.RESULTS_TEXT})


def in_flight(row: Row[Any], now: datetime) -> bool:
    """Whether a pending ``deliveries`` row may be out with a worker now (claimed, and its lease runs)."""
    return bool(row.attempts) and row.next_attempt_at > now


async def look_again_later(tx: Tx) -> None:
    """An erasure found posts under way: have them edited once they are out (one job per erasure)."""
    await tx.schedule_job(ERASE_SENT_JOB, due_at=tx.now + LOOK_AFTER)


async def erase_sent_since(tx: Tx, due_at: datetime) -> int:
    """Queue "[erased]" over each post sent since the erasure whose text was erased but which no edit covers yet."""
    since = due_at - LOOK_AFTER
    sent = await tx.connection.execute(
        select(deliveries).where(
            deliveries.c.side == Side.DEPARTMENT.value,
            deliveries.c.state == DeliveryState.SENT.value,
            deliveries.c.sent_id.is_not(None),
            deliveries.c.updated_at >= since,
        )
    )
    queued = 0
    for row in list(sent):
        body = body_from_json(dict(row.body))
        if not (isinstance(body, ThreadPost) and body.kind in _ERASABLE and body.text == ERASED):
            continue
        if await _covered(tx, row.lane, row.id, str(row.sent_id)):
            continue
        erase = ThreadPost(PostKind.ERASE, body.card, ERASED, body.author, about=str(row.sent_id))
        target = Address(Platform(row.target_platform), row.target_chat)
        await tx.enqueue(case_id=row.case_id, side=Side.DEPARTMENT, lane=row.lane, target=target, body=erase)
        queued += 1
    return queued


async def _covered(tx: Tx, lane: str, after: int, sent_id: str) -> bool:
    """Whether an edit to "[erased]" of ``sent_id`` is already queued (or sent) behind it in its lane."""
    later = await tx.connection.execute(
        select(deliveries.c.body).where(deliveries.c.lane == lane, deliveries.c.id > after)
    )
    for (data,) in later:
        body = body_from_json(dict(data))
        if isinstance(body, ThreadPost) and body.kind is PostKind.ERASE and body.about == sent_id:
            return True
    return False
