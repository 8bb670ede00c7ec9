"""The relay: turns inbound events into stored messages and outbox deliveries, one transaction per event.

Every event is handled in one transaction: the event id is claimed (so a
redelivered event changes nothing), the case is found or opened, the message
stored and the deliveries queued. Sending happens later, in the delivery
worker, which reports back through ``sent_all`` and ``failed``.

By side: ``citizens`` (messages, menu, commands), ``staff`` (replies, notes,
actions, edits), ``outcomes`` (what the worker reports); ``casework`` is what
both sides do to a case; ``effects`` is what runs once, after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Protocol, TypeVar

from bot.consultations.sending import SEND_JOB, continue_sends
from bot.departments import Directory
from bot.erased_in_flight import ERASE_SENT_JOB, erase_sent_since
from bot.events import CitizenCommand, CitizenMessage, InboundEvent, MenuChoice, StaffAction, StaffMessage
from bot.inbound_text import clean_event
from bot.model import Delivery, Platform, Sent
from bot.ports import RelayObserver, RouteDecision, RoutingPolicy, ThreadOwner
from bot.relay import answer_clock
from bot.relay.casework import Casework, RoutingNeededError, RoutingQuestion
from bot.relay.citizens import MENU_TIMEOUT, OTHER, CitizenSide, Limits
from bot.relay.effects import Effects, SilentObserver
from bot.relay.open_chats import OpenChats
from bot.relay.outcomes import record_failure, record_sent
from bot.relay.routing_batches import RoutingBatches
from bot.relay.staff import StaffSide
from bot.relay.turns import Turns
from bot.saved_answers import AnswerBook, SavedAnswers
from bot.service_levels import ANSWER_BREACH, ANSWER_REMINDER
from bot.set_aside import SET_ASIDE_AFTER, FailedTries
from bot.speech import Languages
from bot.storage.jobs import DueJob, JobId
from bot.storage.store import Tx

T = TypeVar("T")
log = logging.getLogger(__name__)

#: A due job whose work failed is tried again this much later.
JOB_RETRY = timedelta(minutes=1)


class Transactions(Protocol):
    """What the relay needs of the store: write transactions (``Store`` is the real one)."""

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction; it may run again when a unique key lost a race."""


class _UnknownThreadError(Exception):
    """A staff event in a thread no case has recorded: roll back (the event stays unclaimed) and ask the root."""


def _no_owner(_platform: Platform) -> ThreadOwner | None:
    return None


def _origin(event: InboundEvent) -> Platform:
    """The platform an event came from: its event ids are unique there."""
    if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice):
        return event.sender.platform
    return event.thread.platform


async def _erase_sent(work: Casework, job: DueJob) -> None:
    """Posts that were under way when an erasure ran: "[erased]" over each now that it is out."""
    await erase_sent_since(work.tx, job.due_at)


def _conversation(event: InboundEvent) -> tuple[str, str, str | None]:
    """Whose turn an event waits for: the citizen's chat, or the staff thread."""
    if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice):
        return (event.sender.platform, event.sender.user_id, None)
    return (event.thread.platform, event.thread.chat, event.thread.thread)


class Relay:
    """The service at the centre. Channels call ``accept``; the delivery worker calls ``sent_all``/``failed``.

    ``on_queued`` rings the delivery worker, and ``observer`` counts; both only
    after a transaction committed, never inside a body ``Store.atomic`` may retry.
    ``on_answered(consultation_id)`` is told, after the commit, that a citizen answered
    (or changed their answer to) a consultation: the hook for results that update live.
    """

    def __init__(
        self,
        *,
        store: Transactions,
        directory: Directory,
        router: RoutingPolicy,
        on_queued: Callable[[], None] = lambda: None,
        observer: RelayObserver | None = None,
        limits: Limits | None = None,
        languages: Languages | None = None,
        set_aside_after: int = SET_ASIDE_AFTER,
        thread_owner: Callable[[Platform], ThreadOwner | None] = _no_owner,
        notice: Callable[[str | None], str] | None = None,
        menu_timeout: timedelta = timedelta(minutes=10),
        answers: AnswerBook | None = None,
        on_answered: Callable[[int], None] = lambda _consultation: None,
    ) -> None:
        self._on_answered = on_answered
        self._store = store
        self._thread_owner = thread_owner
        self._set_aside_after = set_aside_after
        self._failed = FailedTries()
        self._turns = Turns()  # a conversation's events go in one at a time, in order
        self._directory = directory
        self._on_queued = on_queued
        self._observer: RelayObserver = observer or SilentObserver()
        self._languages = languages or Languages.english()
        self._limits = limits or Limits()
        self._open_chats = OpenChats()  # whose next message is likely a first one, routed ahead
        self._citizens = CitizenSide(directory=directory, limits=self._limits, notice=notice, menu_timeout=menu_timeout)
        self._routing = RoutingBatches(router)
        self._answers = answers or SavedAnswers(office_language=self._languages.office_language)
        self._staff = StaffSide(directory=directory, answers=self._answers)
        self._jobs: dict[str, Callable[[Casework, DueJob], Awaitable[None]]] = {
            MENU_TIMEOUT: self._citizens.menu_timed_out,
            ANSWER_REMINDER: answer_clock.remind,
            ANSWER_BREACH: answer_clock.breach,
            SEND_JOB: self._continue_sends,
            ERASE_SENT_JOB: _erase_sent,
        }

    @property
    def directory(self) -> Directory:
        """The departments this relay routes to."""
        return self._directory

    @property
    def answers(self) -> AnswerBook:
        """The saved answers staff may send (``!answer KEY``, the desk's picker)."""
        return self._answers

    async def accept(self, event: InboundEvent) -> None:
        """Store one inbound event and queue what it causes; a duplicate changes nothing.

        Texts and names are cleaned first (``bot.inbound_text``). An event that fails
        ``set_aside_after`` times in a row is set aside (``bot.set_aside``) and counts as taken in.
        """
        if isinstance(event, StaffMessage) and event.is_bot:
            return
        event = clean_event(event)
        platform = _origin(event)
        try:
            async with self._turns.turn(_conversation(event)):
                await self._take_in(event, platform)
        except Exception as error:
            tries = self._failed.failed(platform, event.event_id)
            if tries < self._set_aside_after:
                raise
            await self._set_aside(event, platform, error, tries)
        else:
            self._failed.succeeded(platform, event.event_id)

    async def _set_aside(self, event: InboundEvent, platform: Platform, error: Exception, tries: int) -> None:
        """Keep an event that keeps failing aside, so the platform's later events go in; raises if that fails too."""
        reason = type(error).__name__

        async def keep(tx: Tx) -> None:
            if await tx.claim_event(platform, event.event_id):
                await tx.set_aside(platform, event, error=reason, tries=tries)

        try:
            await self._store.atomic(keep)
        except Exception as failure:
            raise error from failure
        self._failed.succeeded(platform, event.event_id)
        log.warning(
            "set aside %s event %s after %d failed tries (%s): see `civic-bridge events list`",
            platform,
            event.event_id,
            tries,
            reason,
        )

    async def _take_in(self, event: InboundEvent, platform: Platform) -> None:
        routed = await self._route_ahead(event)
        try:
            taken = await self._commit(lambda work: self._handle(work, event, platform), routed=routed)
        except _UnknownThreadError:
            taken = await self._take_in_by_root(event, platform)
        if taken:
            self._on_queued()

    async def _handle(self, work: Casework, event: InboundEvent, platform: Platform, *, known: bool = False) -> bool:
        """Inside a transaction: claim the event, store it and queue what it causes; False for a duplicate.

        A staff reply or action in a thread no case has recorded raises ``_UnknownThreadError`` before
        the claim when the platform's channel can read the thread's root (``ThreadOwner``), unless ``known``.
        """
        if (
            not known
            and isinstance(event, StaffMessage | StaffAction)
            and self._thread_owner(platform) is not None
            and await work.tx.case_by_thread(event.thread) is None
        ):
            raise _UnknownThreadError
        if not await work.tx.claim_event(platform, event.event_id):
            return False
        files = event.files if isinstance(event, CitizenMessage | StaffMessage) else ()
        attachments = tuple([await work.tx.save_file(f) for f in files])
        if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice):
            await self._citizens.handle(work, event, attachments)
        else:
            await self._staff.handle(work, event, attachments)
        work.effects.accepted.append(platform)
        return True

    async def _route_ahead(self, event: InboundEvent) -> dict[RoutingQuestion, RouteDecision]:
        """A message from a chat not seen with a case open is likely a first message: route it before its transaction.

        The question is the one ``CitizenSide`` asks of a first message; if the body asks another
        (a stored language stood in for a missing locale), it rolls back and asks, as without this.
        """
        if not isinstance(event, CitizenMessage) or event.edited or self._open_chats.has_case(event.chat):
            return {}
        text = event.text.strip()
        if not text or len(text) > self._limits.max_message_chars:
            return {}
        question = RoutingQuestion(text, event.sender.language)
        return {question: await self._route(question)}

    async def _route(self, question: RoutingQuestion) -> RouteDecision:
        """The router's decision, asked in a worker thread with those asked meanwhile (``RoutingBatches``)."""
        return await self._routing.decide(question)

    async def _take_in_by_root(self, event: InboundEvent, platform: Platform) -> bool:
        """A staff event in an unrecorded thread: its root names the case (posted, not yet recorded, or posted twice).

        The thread becomes the case's thread if the case has none yet; if the case already has
        another (a root posted again after a crash), the event counts for the case all the same.
        A thread outside the case's department channel, or not a case's at all, is ignored as before.
        """
        assert isinstance(event, StaffMessage | StaffAction)  # noqa: S101  # only these raise _UnknownThreadError
        owner = self._thread_owner(platform)
        reference = await owner.case_reference(event.thread) if owner is not None else None

        async def body(work: Casework) -> bool:
            case = await work.tx.case_by_reference(reference) if reference else None
            home = self._directory.get(case.department) if case and case.department else None
            if case is None or home is None or (home.home.platform, home.home.chat) != (platform, event.thread.chat):
                return await self._handle(work, event, platform, known=True)  # claimed, and nothing to do
            thread = case.thread
            if thread is None:  # the root is out but not recorded yet: this is the case's thread
                await work.tx.adopt_thread(case.id, event.thread)
                thread = event.thread
            return await self._handle(work, replace(event, thread=thread), platform, known=True)

        return await self._commit(body)

    async def retry_set_aside(self, set_aside_id: int) -> bool:
        """Take a set-aside event in again (an admin fixed the cause); False if there is no such event.

        One transaction: the event leaves the set-aside list only if it goes in; if it fails, it stays and this raises.
        """

        async def body(work: Casework) -> bool:
            event = await work.tx.take_back_set_aside(set_aside_id)
            if event is None:
                return False
            await self._handle(work, event, _origin(event))
            return True

        retried = await self._commit(body)
        if retried:
            self._on_queued()
        return retried

    async def sent_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        """Record sends in one transaction (the worker groups those that finish together)."""

        async def body(work: Casework) -> None:
            await record_sent(work, results)

        await self._commit(body)
        self._on_queued()

    async def failed(self, delivery: Delivery, reason: str, *, gone: bool = False) -> None:
        """Record a permanent failure (told in the case's thread); a broadcast to a ``gone`` chat unsubscribes it."""

        async def body(work: Casework) -> None:
            await record_failure(work, delivery, reason, gone=gone)

        await self._commit(body)
        self._on_queued()

    async def run_due_jobs(self, *, limit: int = 100) -> int:
        """Do the due jobs (timers), each in its own transaction that also deletes it; how many were done.

        Several processes may call this at once: each job is taken by one of them only.
        A job whose work fails is kept and tried again ``JOB_RETRY`` later.
        """
        done = 0
        for _ in range(limit):
            if not await self._run_one_job():
                break
            done += 1
        return done

    async def _run_one_job(self) -> bool:
        """Take the earliest due job and do it; False when none is due."""
        taken: list[JobId] = []

        async def body(work: Casework) -> bool:
            taken.clear()  # a retried attempt starts afresh
            job = await work.tx.take_due_job()
            if job is None:
                return False
            taken.append(job.id)
            handler = self._jobs.get(job.kind)
            if handler is None:
                log.warning("dropped a due job of unknown kind %r", job.kind)
                return True
            await handler(work, job)
            return True

        try:
            if not await self._commit(body):
                return False
        except Exception:
            if not taken:
                raise
            log.exception("a due job failed; it is tried again in %s", JOB_RETRY)
            await self._postpone(taken[0])
            return True
        self._on_queued()
        return True

    async def _continue_sends(self, work: Casework, _job: DueJob) -> None:
        """A broadcast still being queued (begun in the background, or cut short by a stop): queue its next chunk."""
        await continue_sends(work.tx, directory=self._directory, languages=self._languages)

    async def _postpone(self, job_id: JobId) -> None:
        async def later(tx: Tx) -> None:
            await tx.postpone_job(job_id, until=tx.now + JOB_RETRY)

        await self._store.atomic(later)

    async def _commit(
        self, body: Callable[[Casework], Awaitable[T]], *, routed: dict[RoutingQuestion, RouteDecision] | None = None
    ) -> T:
        """Run ``body`` in one transaction; what it noted in its ``Effects`` fires once, after the commit.

        A body that needs the router (a first message) and was not given its decision in ``routed``
        rolls back; the router is asked in a worker thread, outside any transaction, and the body
        runs again with its decision.
        """
        routed = dict(routed or {})

        async def attempt(tx: Tx) -> tuple[T, Effects]:
            effects = Effects()  # a retried attempt starts afresh: nothing is counted twice
            work = Casework(tx, directory=self._directory, effects=effects, languages=self._languages, routed=routed)
            return await body(work), effects

        while True:
            try:
                result, effects = await self._store.atomic(attempt)
                break
            except RoutingNeededError as needed:
                question = needed.question
                if question in routed:  # the body asked twice for one answer: a bug, not a loop
                    raise
                routed[question] = await self._route(question)
        effects.fire(self._observer)
        self._open_chats.learn(effects.chats)
        for consultation in effects.answered:
            self._on_answered(consultation)
        return result


__all__ = ["MENU_TIMEOUT", "OTHER", "Limits", "Relay", "Transactions"]
