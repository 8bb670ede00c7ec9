"""The consultations service: what the CLI, Slack and the desk call to publish, close and read results.

Creating an announcement or a consultation sends it: one outbox delivery per subscribed chat
(``bot.consultations.fanout``), each in the chat's language, ending with how to stop, queued ``chunk``
chats per transaction, resumable by any process (``bot.consultations.sending``): at once, or with
``background`` by the running bridge. Only chats that opted in (``subscriptions``) ever receive one.
The other calls are one transaction each; ``ConsultationError`` says, in words staff act on, why
a request is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from bot.consultations.live_results import queue_results_refresh
from bot.consultations.model import (
    BroadcastKind,
    Consultation,
    ConsultationError,
    ConsultationId,
    Followable,
    FollowKey,
    OptionCount,
    Results,
    TextAnswer,
    Voter,
)
from bot.consultations.sending import SEND_CHUNK, SEND_JOB, Chunk, followables, send_chunk
from bot.departments import Directory
from bot.model import DepartmentKey
from bot.privacy import audit
from bot.speech import Languages
from bot.storage.store import Tx

T = TypeVar("T")

#: Most options a consultation may offer (Discord shows 25 buttons a message; a longer list is a survey).
MAX_OPTIONS = 10
#: The longest question or notice, in characters (it must fit one Discord message with its options).
MAX_TEXT = 1500
MAX_OPTION = 80


class Transactions(Protocol):
    """Write and read transactions (``bot.storage.store.Store``)."""

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction."""

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in one read-only transaction."""


class ConsultationService:
    """Publish announcements and consultations to subscribers, close them, and count their answers.

    ``actor`` names who acts (a Slack user, a desk user, ``cli``): it goes into the audit trail,
    never the text. ``on_queued`` rings the delivery worker after a send committed; ``on_scheduled``
    rings the timers (``bot.due_jobs``) after a send was scheduled for them to continue.
    """

    def __init__(
        self,
        *,
        store: Transactions,
        directory: Directory,
        languages: Languages | None = None,
        on_queued: Callable[[], None] = lambda: None,
        on_scheduled: Callable[[], None] = lambda: None,
        chunk: int = SEND_CHUNK,
    ) -> None:
        self._chunk = chunk
        self._on_scheduled = on_scheduled
        self._store = store
        self._directory = directory
        self._languages = languages or Languages.english()
        self._on_queued = on_queued

    def followable(self) -> tuple[Followable, ...]:
        """What citizens can follow now."""
        return followables(self._directory)

    async def create_announcement(
        self, *, department: str, text: str, actor: str, topic: str | None = None, background: bool = False
    ) -> Consultation:
        """Send a short notice from ``department`` to its subscribers (or, with ``topic``, the topic's and its own).

        With ``background`` it is stored and its send scheduled, and this returns at once: the running
        bridge's timers queue it, then post "sent to N chats" in the department's channel.
        """
        return await self._publish(
            kind=BroadcastKind.ANNOUNCEMENT,
            department=department,
            topic=topic,
            text=text,
            options=(),
            free_text=False,
            closes_at=None,
            show_who_answered=False,
            actor=actor,
            background=background,
        )

    async def create_consultation(
        self,
        *,
        department: str,
        question: str,
        options: Sequence[str] = (),
        free_text: bool = False,
        closes_at: datetime | None = None,
        show_who_answered: bool = False,
        actor: str,
        topic: str | None = None,
        background: bool = False,
    ) -> Consultation:
        """Ask ``department``'s subscribers a question: single choice among ``options``, or ``free_text``.

        Answers are taken until ``closes_at`` (None: until closed); results name who answered only
        with ``show_who_answered``. Raises ``ConsultationError`` for a request it cannot send;
        ``background`` as for ``create_announcement``.
        """
        cleaned = tuple(option.strip() for option in options)
        if free_text == bool(cleaned):
            msg = "give either options (two or more) or free text, not both"
            raise ConsultationError(msg)
        if not free_text and len(cleaned) < 2:  # noqa: PLR2004  # a choice needs two options
            msg = "a single-choice consultation needs at least two options"
            raise ConsultationError(msg)
        if len(cleaned) > MAX_OPTIONS or any(not o or len(o) > MAX_OPTION for o in cleaned):
            msg = f"give at most {MAX_OPTIONS} options, each 1 to {MAX_OPTION} characters"
            raise ConsultationError(msg)
        return await self._publish(
            kind=BroadcastKind.CONSULTATION,
            department=department,
            topic=topic,
            text=question,
            options=cleaned,
            free_text=free_text,
            closes_at=closes_at,
            show_who_answered=show_who_answered,
            actor=actor,
            background=background,
        )

    async def list(self, *, department: str | None = None) -> list[Consultation]:
        """Every announcement and consultation, newest first (one department's, if given)."""

        async def body(tx: Tx) -> list[Consultation]:
            return await tx.consultations(department=DepartmentKey(department) if department else None)

        return await self._store.read(body)

    async def get(self, consultation_id: int) -> Consultation:
        """One announcement or consultation; ``ConsultationError`` if there is none."""

        async def body(tx: Tx) -> Consultation:
            return await _found(tx, consultation_id)

        return await self._store.read(body)

    async def close(self, consultation_id: int, *, actor: str) -> Consultation:
        """Stop taking answers now; later answers are told the consultation has closed. Audited."""

        async def body(tx: Tx) -> Consultation:
            found = await _found(tx, consultation_id)
            if found.kind is not BroadcastKind.CONSULTATION:
                msg = f"{consultation_id} is an announcement: there is nothing to close"
                raise ConsultationError(msg)
            await tx.close_consultation(found.id)
            await audit(tx, actor=actor, action="consult_close", consultation=found.id, department=found.department)
            closed = await _found(tx, consultation_id)
            department = self._directory.get(closed.department)
            if department is not None:  # the results message says it closed
                await queue_results_refresh(tx, closed, department, text=None, who=None)
            return closed

        closed = await self._store.atomic(body)
        self._on_queued()
        return closed

    async def results(self, consultation_id: int) -> Results:
        """Counts per option and the free-text answers; who answered only if the consultation shows it."""

        async def body(tx: Tx) -> Results:
            found = await _found(tx, consultation_id)
            answers = await tx.answers(found.id)
            counts = [0] * len(found.options)
            texts: list[TextAnswer] = []
            voters: list[Voter] = []
            for answer, name in answers:
                who = (name or "?") if found.show_who_answered else None
                if answer.option is not None and 1 <= answer.option <= len(counts):
                    counts[answer.option - 1] += 1
                    if who is not None:
                        voters.append(Voter(who, answer.option))
                elif answer.text is not None:
                    texts.append(TextAnswer(answer.text, answer.answered_at, who))
            options = tuple(
                OptionCount(number, label, counts[number - 1]) for number, label in enumerate(found.options, 1)
            )
            return Results(found, len(answers), options, tuple(texts), tuple(voters))

        return await self._store.read(body)

    # --- sending -------------------------------------------------------------------------------

    async def _publish(
        self,
        *,
        kind: BroadcastKind,
        department: str,
        topic: str | None,
        text: str,
        options: tuple[str, ...],
        free_text: bool,
        closes_at: datetime | None,
        show_who_answered: bool,
        actor: str,
        background: bool,
    ) -> Consultation:
        sender = self._directory.get(department)
        if sender is None:
            known = ", ".join(d.key for d in self._directory.departments)
            msg = f"no department {department!r}; known: {known}"
            raise ConsultationError(msg)
        self._followed(sender.key, topic)
        text = text.strip()
        if not text or len(text) > MAX_TEXT:
            msg = f"the text must be 1 to {MAX_TEXT} characters"
            raise ConsultationError(msg)

        async def create(tx: Tx) -> Consultation:
            if closes_at is not None and closes_at <= tx.now:
                msg = "the closing time is in the past"
                raise ConsultationError(msg)
            created = await tx.add_consultation(
                kind=kind,
                department=sender.key,
                topic=FollowKey(topic) if topic else None,
                text=text,
                options=options,
                free_text=free_text,
                closes_at=closes_at,
                show_who_answered=show_who_answered,
                created_by=actor,
                report_when_sent=background,
            )
            # Committed with the consultation: if this process stops before the last chunk, a running bridge ends it.
            await tx.schedule_job(SEND_JOB, due_at=tx.now)
            return created

        created = await self._store.atomic(create)
        self._on_scheduled()
        if background:
            return created
        await self.finish_send(created.id)
        return await self.get(created.id)

    async def finish_send(self, consultation_id: int) -> None:
        """Queue the rest of a send in this process, ``chunk`` chats per transaction (the bookmark moves with each).

        Each chunk rings the worker, so the first chats are being sent to while later ones are queued.
        Another process continuing the same send at once takes turns with this one; nobody gets it twice.
        """

        async def chunk(tx: Tx) -> Chunk | None:
            return await send_chunk(
                tx,
                ConsultationId(consultation_id),
                directory=self._directory,
                languages=self._languages,
                limit=self._chunk,
            )

        while True:
            done = await self._store.atomic(chunk)
            self._on_queued()
            if done is None or done.finished:
                return

    def _followed(self, department: DepartmentKey, topic: str | None) -> Followable:
        """What the recipients follow that brings them this: the topic (which must be the department's) or it."""
        wanted = topic or department
        found = next((f for f in self.followable() if f.key == wanted), None)
        if found is None or found.department != department:
            topics = ", ".join(t.key for t in self._directory.topics if t.department == department) or "none"
            msg = f"no topic {topic!r} of department {department!r}; its topics: {topics}"
            raise ConsultationError(msg)
        return found


async def _found(tx: Tx, consultation_id: int) -> Consultation:
    found = await tx.consultation(ConsultationId(consultation_id))
    if found is None:
        msg = f"there is no consultation or announcement {consultation_id}"
        raise ConsultationError(msg)
    return found
