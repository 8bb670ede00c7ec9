"""Queueing a broadcast, chunk by chunk, so that any process can finish a send another one began.

A new announcement or consultation is stored "sending" with a bookmark (the last subscription id queued)
and a due job ``SEND_JOB``. Whoever publishes may queue its chunks at once (the CLI, the desk); the running
bridge's timers (``bot.due_jobs``) take the job and continue any send still unfinished, so a send that a
crash or a restart cut short is finished, and one published from Slack is queued after Slack had its answer.
Each chunk is one transaction that locks the send's row first, so two processes take turns and no chat
is queued twice. The chunk that finds no one left marks the send done and writes its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.consultations.fanout import enqueue_broadcast
from bot.consultations.live_results import RESULTS_AUTHOR, consultation_card, queue_results_post
from bot.consultations.model import BroadcastKind, Consultation, ConsultationId, Followable, FollowKey
from bot.consultations.render import broadcast_body
from bot.departments import Department, Directory
from bot.model import CitizenReply, Platform, PostKind, Side, ThreadPost
from bot.privacy import audit
from bot.speech import Languages
from bot.storage.store import Tx

#: The due job that continues unfinished sends (one chunk each time it is taken; it schedules the next).
SEND_JOB = "consult_send"
#: Chats queued per transaction: a big broadcast never holds the database (SQLite: the one writer) for long.
SEND_CHUNK = 2000
#: The lane of an announcement's "sent to N chats" post in the department's channel (a consultation's results
#: message, posted when its send is done, says "of N asked" instead).
REPORT_LANE = "consult-sent:"


def followables(directory: Directory) -> tuple[Followable, ...]:
    """What citizens can follow: every department (by key), then every topic of the routing file."""
    return (
        *(Followable(FollowKey(d.key), d.name, d.key, names=d.names) for d in directory.departments),
        *(Followable(FollowKey(t.key), t.name, t.department, is_topic=True, names=t.names) for t in directory.topics),
    )


@dataclass(frozen=True, slots=True)
class Chunk:
    """What one chunk did: chats queued now, and whether the send is finished."""

    queued: int
    finished: bool


def report_text(consultation: Consultation) -> str:
    """The staff-facing line posted in the department's channel once a send from Slack is queued for everyone."""
    what = "Announcement" if consultation.kind is BroadcastKind.ANNOUNCEMENT else "Consultation"
    chats = "1 chat" if consultation.recipients == 1 else f"{consultation.recipients:,} chats"
    return f"{what} #{consultation.id} was sent to {chats} (by {consultation.created_by})."


async def send_chunk(
    tx: Tx, consultation_id: ConsultationId, *, directory: Directory, languages: Languages, limit: int = SEND_CHUNK
) -> Chunk | None:
    """Queue the next ``limit`` chats of an unfinished send, in this transaction; None if it is not sending."""
    bookmark = await tx.hold_send(consultation_id)
    consultation = await tx.consultation(consultation_id)
    if bookmark is None or consultation is None:
        return None
    sender = directory.get(consultation.department)
    followed = _followed(directory, consultation)
    if sender is None or followed is None:  # the routing file lost it: no one can be told in its name
        await tx.advance_send(consultation_id, until=bookmark.after, finished=True)
        return Chunk(0, finished=True)
    keys = [FollowKey(sender.key), *([followed.key] if followed.is_topic else [])]
    recipients = await tx.audience(keys, after=bookmark.after, limit=limit)
    bodies: dict[tuple[str, Platform], CitizenReply] = {}

    def body_for(language: str, platform: Platform) -> CitizenReply:
        if (language, platform) not in bodies:
            voice = languages.voice(language)
            bodies[language, platform] = broadcast_body(
                consultation, voice=voice, platform=platform, sender_name=voice.department(sender), followed=followed
            )
        return bodies[language, platform]

    if recipients:
        await enqueue_broadcast(tx, [(r.chat, body_for(r.language, r.chat.platform)) for r in recipients])
        listed = consultation.kind is BroadcastKind.CONSULTATION
        await tx.add_recipients(consultation.id, recipients, listed=listed)
    finished = len(recipients) < limit
    until = recipients[-1].subscription_id if recipients else bookmark.after
    await tx.advance_send(consultation.id, until=until, finished=finished)
    if finished:
        await _finish(tx, consultation.id, sender, report=bookmark.report)
    return Chunk(len(recipients), finished=finished)


async def continue_sends(tx: Tx, *, directory: Directory, languages: Languages, limit: int = SEND_CHUNK) -> int:
    """The ``SEND_JOB``: one chunk of the oldest unfinished send, and the job again while any is left; chats queued."""
    unfinished = await tx.unfinished_sends()
    if not unfinished:
        return 0
    done = await send_chunk(tx, unfinished[0], directory=directory, languages=languages, limit=limit)
    if done is None or not done.finished or len(unfinished) > 1:
        await tx.schedule_job(SEND_JOB, due_at=tx.now)
    return done.queued if done is not None else 0


async def _finish(tx: Tx, consultation_id: ConsultationId, sender: Department, *, report: bool) -> None:
    """The send is done: audit it, queue the results message (now it can say how many were asked), report it."""
    sent = await tx.consultation(consultation_id)
    assert sent is not None  # noqa: S101  # held above, in this transaction
    await queue_results_post(tx, sent, sender)
    action = "announce" if sent.kind is BroadcastKind.ANNOUNCEMENT else "consult_create"
    await audit(
        tx,
        actor=sent.created_by,
        action=action,
        consultation=sent.id,
        department=sender.key,
        recipients=sent.recipients,
    )
    if report and sent.kind is BroadcastKind.ANNOUNCEMENT:  # a consultation's results message says it already
        body = ThreadPost(PostKind.RESULTS, consultation_card(sent, sender), report_text(sent), RESULTS_AUTHOR)
        lane = f"{REPORT_LANE}{sent.id}"
        await tx.enqueue(case_id=None, side=Side.DEPARTMENT, lane=lane, target=sender.home, body=body)


def _followed(directory: Directory, consultation: Consultation) -> Followable | None:
    wanted = consultation.topic or consultation.department
    return next((f for f in followables(directory) if f.key == wanted), None)
