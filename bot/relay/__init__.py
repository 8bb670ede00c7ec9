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

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from bot.departments import Directory
from bot.events import CitizenCommand, CitizenMessage, InboundEvent, MenuChoice, StaffMessage
from bot.model import Delivery, Platform, Sent
from bot.ports import RelayObserver, RoutingPolicy
from bot.relay.casework import Casework
from bot.relay.citizens import OTHER, CitizenSide, Limits
from bot.relay.effects import Effects, SilentObserver
from bot.relay.outcomes import record_failure, record_sent
from bot.relay.staff import StaffSide
from bot.saved_answers import SavedAnswers
from bot.speech import Languages
from bot.storage.store import Tx

T = TypeVar("T")


class Transactions(Protocol):
    """What the relay needs of the store: write transactions (``Store`` is the real one)."""

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction; it may run again when a unique key lost a race."""


def _origin(event: InboundEvent) -> Platform:
    """The platform an event came from: its event ids are unique there."""
    if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice):
        return event.sender.platform
    return event.thread.platform


class Relay:
    """The service at the centre. Channels call ``accept``; the delivery worker calls ``sent_all``/``failed``.

    ``on_queued`` rings the delivery worker, and ``observer`` counts; both only
    after a transaction committed, never inside a body ``Store.atomic`` may retry.
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
        answers: SavedAnswers | None = None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._on_queued = on_queued
        self._observer: RelayObserver = observer or SilentObserver()
        self._languages = languages or Languages.english()
        self._citizens = CitizenSide(directory=directory, router=router, limits=limits or Limits())
        self._answers = answers or SavedAnswers(office_language=self._languages.office_language)
        self._staff = StaffSide(directory=directory, answers=self._answers)

    @property
    def directory(self) -> Directory:
        """The departments this relay routes to."""
        return self._directory

    @property
    def answers(self) -> SavedAnswers:
        """The saved answers staff may send (``!answer KEY``, the desk's picker)."""
        return self._answers

    async def accept(self, event: InboundEvent) -> None:
        """Store one inbound event and queue what it causes; a duplicate changes nothing."""
        if isinstance(event, StaffMessage) and event.is_bot:
            return
        platform = _origin(event)
        files = event.files if isinstance(event, CitizenMessage | StaffMessage) else ()

        async def body(work: Casework) -> bool:
            if not await work.tx.claim_event(platform, event.event_id):
                return False
            attachments = tuple([await work.tx.save_file(f) for f in files])
            if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice):
                await self._citizens.handle(work, event, attachments)
            else:
                await self._staff.handle(work, event, attachments)
            work.effects.accepted.append(platform)
            return True

        if await self._commit(body):
            self._on_queued()

    async def sent_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        """Record sends in one transaction (the worker groups those that finish together)."""

        async def body(work: Casework) -> None:
            await record_sent(work, results)

        await self._commit(body)
        self._on_queued()

    async def failed(self, delivery: Delivery, reason: str) -> None:
        """Record a permanent failure; staff are told in the case's thread."""

        async def body(work: Casework) -> None:
            await record_failure(work, delivery, reason)

        await self._commit(body)
        self._on_queued()

    async def _commit(self, body: Callable[[Casework], Awaitable[T]]) -> T:
        """Run ``body`` in one transaction; what it noted in its ``Effects`` fires once, after the commit."""

        async def attempt(tx: Tx) -> tuple[T, Effects]:
            effects = Effects()  # a retried attempt starts afresh: nothing is counted twice
            work = Casework(tx, directory=self._directory, effects=effects, languages=self._languages)
            return await body(work), effects

        result, effects = await self._store.atomic(attempt)
        effects.fire(self._observer)
        return result


__all__ = ["OTHER", "Limits", "Relay", "Transactions"]
