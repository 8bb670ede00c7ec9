"""Consultation data under the privacy rules: erasure, access (export) and retention of consent and answers.

Subscriptions are consent: kept while it stands, deleted when withdrawn or the citizen is erased.
Answers are personal data: an erasure or the retention period (counted from the consultation's
close) erases their text and their link to the citizen; the counts per option stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, literal, or_, select, update

from bot.consultations.fanout import bulk_lane
from bot.consultations.live_results import erase_results_texts
from bot.consultations.render import answer_words
from bot.model import Address, CitizenId, CitizenReply, DeliveryState, Platform, ReplyKind, Side
from bot.storage.codec import body_to_json
from bot.storage.store import Tx
from bot.storage.tables import (
    consultation_answers,
    consultation_recipients,
    consultations,
    deliveries,
    subscription_offers,
    subscriptions,
)

#: What an erased free-text answer reads.
ERASED = "[erased]"


async def forget_engagement(tx: Tx, citizen_ids: Sequence[CitizenId]) -> int:
    """Delete these citizens' consent and offers; erase their answers' text and link to them. Subscriptions gone."""
    ids = list(citizen_ids)
    if not ids:
        return 0
    c = tx.connection
    chats = select(subscriptions.c.chat_platform, subscriptions.c.chat_id).where(subscriptions.c.citizen_id.in_(ids))
    lanes = [bulk_lane(Address(Platform(row.chat_platform), row.chat_id)) for row in await c.execute(chats)]
    await _scrub_caseless_replies(tx, ids)
    if lanes:  # nothing queued for them goes out after they withdrew
        pending = deliveries.c.state == DeliveryState.PENDING.value
        await c.execute(delete(deliveries).where(pending, deliveries.c.lane.in_(lanes)))
    gone = (await c.execute(delete(subscriptions).where(subscriptions.c.citizen_id.in_(ids)))).rowcount
    await c.execute(delete(subscription_offers).where(subscription_offers.c.citizen_id.in_(ids)))
    await c.execute(delete(consultation_recipients).where(consultation_recipients.c.citizen_id.in_(ids)))
    await erase_results_texts(tx, ids)  # before the answers lose their chat: it finds their posts
    await _erase_answers(tx, consultation_answers.c.citizen_id.in_(ids), "erased-")
    return int(gone)


async def _scrub_caseless_replies(tx: Tx, ids: list[CitizenId]) -> None:
    """Erase what the bridge said to these citizens' chats outside any case (answers echoed back, broadcasts).

    Unsent, it is dropped; sent, its text leaves the outbox.
    """
    c, found = tx.connection, set()
    for table in (subscriptions, consultation_answers, consultation_recipients):
        query = select(table.c.chat_platform, table.c.chat_id).where(table.c.citizen_id.in_(ids))
        found |= {(str(row.chat_platform), str(row.chat_id)) for row in await c.execute(query)}
    erased = body_to_json(CitizenReply(ReplyKind.SYSTEM, ERASED, ""))
    for platform, chat in sorted(found):
        theirs = and_(
            deliveries.c.case_id.is_(None),
            deliveries.c.side == Side.CITIZEN.value,
            deliveries.c.target_platform == platform,
            deliveries.c.target_chat == chat,
        )
        pending = deliveries.c.state == DeliveryState.PENDING.value
        await c.execute(delete(deliveries).where(theirs, pending))
        await c.execute(update(deliveries).where(theirs, ~pending).values(body=erased))


async def _erase_answers(tx: Tx, where: Any, prefix: str) -> int:  # noqa: ANN401  # a WHERE clause
    """Unlink answers from their citizen and chat; a free text becomes ``[erased]`` (the option counts stay)."""
    result = await tx.connection.execute(
        update(consultation_answers)
        .where(where)
        .values(
            citizen_id=None,
            chat_id=literal(prefix) + cast(consultation_answers.c.id, String),
            text=case((consultation_answers.c.text.is_(None), None), else_=literal(ERASED)),
        )
    )
    return int(result.rowcount)


async def purge_answers(tx: Tx, *, closed_before: datetime) -> int:
    """Erase the answers of consultations closed (or past their closing time) before ``closed_before``."""
    ended = select(consultations.c.id).where(
        or_(
            consultations.c.closed_at < closed_before,
            and_(consultations.c.closed_at.is_(None), consultations.c.closes_at < closed_before),
        )
    )
    await tx.connection.execute(
        delete(consultation_recipients).where(consultation_recipients.c.consultation_id.in_(ended))
    )
    still_linked = consultation_answers.c.citizen_id.is_not(None)
    return await _erase_answers(tx, and_(consultation_answers.c.consultation_id.in_(ended), still_linked), "purged-")


async def export_engagement(tx: Tx, citizen_ids: Sequence[CitizenId]) -> dict[str, Any]:
    """What a citizen agreed to (when, in which words) and what they answered, JSON-ready."""
    consents = [
        {
            "follows": s.key,
            "chat": f"{s.chat.platform}:{s.chat.chat}",
            "agreed_at": s.subscribed_at.isoformat(),
            "language": s.language,
            "wording": s.consent_text,
        }
        for s in await tx.subscriptions_of_citizens(citizen_ids)
    ]
    answers = []
    for answer in await tx.answers_of_citizens(citizen_ids):
        asked = await tx.consultation(answer.consultation_id)
        chosen = answer_words(asked, answer.option, None) if asked and answer.option else None
        answers.append(
            {
                "consultation": answer.consultation_id,
                "question": asked.text if asked else None,
                "option": chosen,
                "text": answer.text,
                "answered_at": answer.answered_at.isoformat(),
            }
        )
    return {"subscriptions": consents, "consultation_answers": answers}
