"""Live results in the department's channel: one results message per consultation, updated as answers arrive.

Publishing a consultation queues the message (``PostKind.RESULTS``) in the lane ``results:ID`` (or the first
answer does, if it came first); each answer
queues at most one ``RESULTS_UPDATE`` that is not yet claimed (so 1,000 answers arriving while one update is
sent cause one more update, not 1,000; and never sooner than ``UPDATE_SPACING`` after the last one), and a
free-text answer a ``RESULTS_TEXT`` in the message's thread (a changed one edits its earlier line to say so).
The bodies are rendered when they are sent (``ResultsPreparation``): an update always shows the counts as they
stand then, and carries the message id the first post was recorded under.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from bot.consultations.model import BroadcastKind, Consultation, ConsultationId, Results
from bot.delivery import Preparation
from bot.departments import Department
from bot.erased_in_flight import ERASED, in_flight, look_again_later
from bot.live import LiveEvents
from bot.model import (
    DESK,
    Address,
    CaseCard,
    CaseStatus,
    CitizenId,
    Delivery,
    DeliveryState,
    Platform,
    PostKind,
    Sent,
    Side,
    ThreadPost,
)
from bot.storage.codec import body_from_json, body_to_json
from bot.storage.store import Store, Tx
from bot.storage.tables import consultation_answers, consultation_posts, deliveries

log = logging.getLogger(__name__)

RESULTS_LANE = "results:"
RESULTS_KINDS = frozenset({PostKind.RESULTS, PostKind.RESULTS_UPDATE, PostKind.RESULTS_TEXT})
#: Who the results posts are by.
RESULTS_AUTHOR = "civic-bridge"
#: What an erased free-text answer reads in the channel.
#: What a free-text answer the citizen changed since reads in the thread (their new answer follows it).
CHANGED = "(answer changed: the new one is below)"
#: The least time between two edits of one results message (Slack allows about one post or edit a second per
#: channel, ``chat.update`` about 50 a minute per workspace): 1,000 answers in a minute make ~20 edits, not 1,000.
UPDATE_SPACING = timedelta(seconds=3)
#: Width of a full bar, in block characters.
BAR_WIDTH = 20


def results_lane(consultation_id: int) -> str:
    """The outbox lane of one consultation's results posts (in order: the message first, then its updates)."""
    return f"{RESULTS_LANE}{consultation_id}"


def consultation_of_lane(lane: str) -> ConsultationId | None:
    """The consultation a results lane belongs to, or None for any other lane."""
    number = lane.removeprefix(RESULTS_LANE)
    return ConsultationId(int(number)) if lane.startswith(RESULTS_LANE) and number.isdigit() else None


def results_reference(consultation_id: int) -> str:
    """How a consultation is named on department-side posts and desk pages."""
    return f"consultation-{consultation_id}"


def consultation_card(consultation: Consultation, department: Department) -> CaseCard:
    """A results post is no case: its card names the consultation and the department it belongs to."""
    return CaseCard(
        reference=results_reference(consultation.id),
        department_key=department.key,
        department_name=department.name,
        platform=department.home.platform,
        citizen_name="",
        language=None,
        status=CaseStatus.OPEN,
        claimed_by=None,
    )


async def queue_results_post(tx: Tx, consultation: Consultation, department: Department) -> None:
    """Queue the results message of a new consultation in ``department``'s home (announcements have none)."""
    if consultation.kind is not BroadcastKind.CONSULTATION:
        return
    home = department.home
    if await results_message(tx, consultation.id) is not None:
        return  # queued already (by an answer that came first)
    await tx.connection.execute(
        insert(consultation_posts).values(consultation_id=consultation.id, platform=home.platform, chat=home.chat)
    )
    body = ThreadPost(PostKind.RESULTS, consultation_card(consultation, department), "", RESULTS_AUTHOR)
    await tx.enqueue(case_id=None, side=Side.DEPARTMENT, lane=results_lane(consultation.id), target=home, body=body)


async def queue_results_refresh(  # the answer's facts, keyword-only
    tx: Tx,
    consultation: Consultation,
    department: Department,
    *,
    text: str | None,
    who: str | None,
    chat: Address | None = None,
    spacing: timedelta = UPDATE_SPACING,
) -> None:
    """An answer was saved: queue a free-text answer's thread post, and an update unless one is already waiting.

    ``who`` is shown beside the text only when the consultation was created to show who answered; the
    answering ``chat`` is kept on the post (``about``), so erasing the citizen erases it in the channel too.
    An update is due ``spacing`` after the lane's last post went out, at the earliest.
    """
    first = await results_message(tx, consultation.id) is None
    if first:  # the answer came before the message was queued: the message itself shows it when it is sent
        await queue_results_post(tx, consultation, department)
    lane, home, card = results_lane(consultation.id), department.home, consultation_card(consultation, department)
    if text is not None:
        line = f"{who}: {text}" if consultation.show_who_answered and who else text
        key = _chat_key(chat) if chat else None
        if key is None or not await _change_earlier_line(tx, lane, key, line):
            body = ThreadPost(PostKind.RESULTS_TEXT, card, line, RESULTS_AUTHOR, about=key)
            await tx.enqueue(case_id=None, side=Side.DEPARTMENT, lane=lane, target=home, body=body)
    if first:
        return
    # Claiming counts an attempt: a row with none is still waiting and will show this answer when it is sent.
    waiting = await tx.connection.execute(
        select(deliveries.c.body).where(
            deliveries.c.lane == lane,
            deliveries.c.state == DeliveryState.PENDING.value,
            deliveries.c.attempts == 0,
        )
    )
    if any(_kind(row.body) is PostKind.RESULTS_UPDATE for row in waiting):
        return
    body = ThreadPost(PostKind.RESULTS_UPDATE, card, "", RESULTS_AUTHOR)
    queued = await tx.enqueue(case_id=None, side=Side.DEPARTMENT, lane=lane, target=home, body=body)
    last = (
        await tx.connection.execute(
            select(func.max(deliveries.c.updated_at)).where(
                deliveries.c.lane == lane, deliveries.c.state == DeliveryState.SENT.value
            )
        )
    ).scalar_one_or_none()
    paced = home.platform != DESK  # the desk's "edit" only tells open pages to reload
    if paced and last is not None and last + spacing > tx.now:  # Slack takes about one edit a second per channel
        await tx.connection.execute(
            update(deliveries).where(deliveries.c.id == queued).values(next_attempt_at=last + spacing)
        )


async def _change_earlier_line(tx: Tx, lane: str, key: str, line: str) -> bool:
    """The chat changed its free-text answer: its earlier line in the thread gives way to ``line``.

    A line not sent yet is rewritten (True: nothing more to post); one already in the thread is edited to
    read ``CHANGED`` (the new line follows it), and its old text leaves the outbox.
    """
    rewritten = False
    for row in list(await tx.connection.execute(select(deliveries).where(deliveries.c.lane == lane))):
        body = body_from_json(dict(row.body))
        if not (isinstance(body, ThreadPost) and body.kind is PostKind.RESULTS_TEXT and body.about == key):
            continue
        unsent = row.state == DeliveryState.PENDING.value and row.attempts == 0
        now = replace(body, text=line) if unsent else replace(body, text=CHANGED, about=None)
        await tx.connection.execute(update(deliveries).where(deliveries.c.id == row.id).values(body=body_to_json(now)))
        rewritten = rewritten or unsent
        if row.state == DeliveryState.SENT.value and row.sent_id:
            home = Address(Platform(row.target_platform), row.target_chat)
            edit = ThreadPost(PostKind.ERASE, body.card, CHANGED, RESULTS_AUTHOR, about=row.sent_id)
            await tx.enqueue(case_id=None, side=Side.DEPARTMENT, lane=lane, target=home, body=edit)
    return rewritten


def _chat_key(chat: Address) -> str:
    return f"{chat.platform}:{chat.chat}"


async def erase_results_texts(tx: Tx, citizen_ids: Sequence[CitizenId]) -> int:
    """These citizens' free-text answers in results threads become "[erased]" (posted ones are edited); how many."""
    answered = await tx.connection.execute(
        select(
            consultation_answers.c.consultation_id, consultation_answers.c.chat_platform, consultation_answers.c.chat_id
        ).where(consultation_answers.c.citizen_id.in_(list(citizen_ids)), consultation_answers.c.text.is_not(None))
    )
    erased, under_way = 0, False
    for consultation_id, platform, chat in list(answered):
        key, lane = f"{platform}:{chat}", results_lane(consultation_id)
        for row in list(await tx.connection.execute(select(deliveries).where(deliveries.c.lane == lane))):
            body = body_from_json(dict(row.body))
            if not (isinstance(body, ThreadPost) and body.kind is PostKind.RESULTS_TEXT and body.about == key):
                continue
            gone = replace(body, text=ERASED, about=None)
            await tx.connection.execute(
                update(deliveries).where(deliveries.c.id == row.id).values(body=body_to_json(gone))
            )
            under_way = under_way or (row.state == DeliveryState.PENDING.value and in_flight(row, tx.now))
            if row.state == DeliveryState.SENT.value and row.sent_id:
                home = Address(Platform(row.target_platform), row.target_chat)
                erase = ThreadPost(PostKind.ERASE, body.card, ERASED, RESULTS_AUTHOR, about=row.sent_id)
                await tx.enqueue(case_id=None, side=Side.DEPARTMENT, lane=lane, target=home, body=erase)
            erased += 1
    if under_way:  # it goes out as a worker holds it: edited once it is out
        await look_again_later(tx)
    return erased


def _kind(data: object) -> PostKind | None:
    body = body_from_json(dict(data)) if isinstance(data, dict) else None
    return body.kind if isinstance(body, ThreadPost) else None


async def record_results_posts(tx: Tx, results: Sequence[tuple[Delivery, Sent]]) -> None:
    """A results message that went out: remember its id, so updates and free-text answers find it."""
    for delivery, sent in results:
        body = delivery.body
        consultation_id = consultation_of_lane(delivery.lane)
        if consultation_id is None or not isinstance(body, ThreadPost) or body.kind is not PostKind.RESULTS:
            continue
        await tx.connection.execute(
            update(consultation_posts)
            .where(consultation_posts.c.consultation_id == consultation_id)
            .values(message_id=sent.thread or sent.message_id)
        )


async def results_message(tx: Tx, consultation_id: int) -> tuple[Platform, str, str | None] | None:
    """Where a consultation's results message is (platform, chat, message id once posted); None if it has none."""
    row = (
        await tx.connection.execute(
            select(consultation_posts).where(consultation_posts.c.consultation_id == consultation_id)
        )
    ).one_or_none()
    return None if row is None else (Platform(row.platform), row.chat, row.message_id)


def _bar(count: int, top: int) -> str:
    filled = round(count / top * BAR_WIDTH) if top else 0
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def results_text(results: Results) -> str:
    """The results as staff read them: the question, one bar per option with its count and share, the total."""
    consultation = results.consultation
    state = "open" if consultation.closed_at is None else "closed"
    lines = [f"Consultation #{consultation.id} ({state}): {consultation.text}"]
    chosen = sum(option.count for option in results.counts)
    top = max((option.count for option in results.counts), default=0)
    for option in results.counts:
        share = f"{option.count / chosen:.0%}" if chosen else "0%"
        lines.append(f"{_bar(option.count, top)} {option.count} ({share}) {option.number}. {option.label}")
    if consultation.free_text:
        lines.append("Free-text answers are in this message's thread.")
    lines.append(f"Answers: {results.answered} of {consultation.recipients} asked")
    return "\n".join(lines)


class ResultsPreparation:
    """Renders results posts as they go out (the counts as they stand, the message they update); others pass on.

    Each results post also tells open desk pages of the department (``live``, topic ``desk:KEY``) to refresh.
    """

    def __init__(
        self,
        *,
        store: Store,
        results: Callable[[int], Awaitable[Results]],
        inner: Preparation | None = None,
        live: LiveEvents | None = None,
    ) -> None:
        self._store = store
        self._results = results
        self._inner = inner
        self._live = live

    async def prepare(self, delivery: Delivery) -> Delivery:
        """The delivery ready to send; a failure to read leaves it as it is (the send then fails and retries)."""
        body = delivery.body
        consultation_id = consultation_of_lane(delivery.lane)
        if not isinstance(body, ThreadPost) or body.kind not in RESULTS_KINDS or consultation_id is None:
            return await self._inner.prepare(delivery) if self._inner is not None else delivery
        try:
            prepared = await self._render(delivery, body, consultation_id)
        except Exception:
            log.exception("results of consultation %s could not be read; sending as queued", consultation_id)
            return delivery
        if self._live is not None:
            event = {"type": "results", "reference": body.card.reference, "kind": body.kind.value}
            with contextlib.suppress(Exception):  # live pages are best effort; they catch up on reconnect
                await self._live.publish(f"desk:{body.card.department_key}", event)
        return prepared

    async def _render(self, delivery: Delivery, body: ThreadPost, consultation_id: ConsultationId) -> Delivery:
        where = await self._store.read(lambda tx: results_message(tx, consultation_id))
        message = where[2] if where is not None else None
        if body.kind is PostKind.RESULTS_TEXT:
            return replace(delivery, target=replace(delivery.target, thread=message))
        text = results_text(await self._results(consultation_id))
        about = message if body.kind is PostKind.RESULTS_UPDATE else None
        return replace(delivery, body=replace(body, text=text, about=about))
