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
from datetime import timedelta
from typing import Protocol, TypeVar

from bot.departments import Directory
from bot.events import CitizenCommand, CitizenMessage, InboundEvent, MenuChoice, StaffMessage
from bot.model import Delivery, Platform, Sent
from bot.ports import RelayObserver, RoutingPolicy
from bot.relay.casework import Casework
from bot.relay.citizens import MENU_TIMEOUT, OTHER, CitizenSide, Limits
from bot.relay.effects import Effects, SilentObserver
from bot.relay.outcomes import record_failure, record_sent
from bot.relay.staff import StaffSide
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
        menu_timeout: timedelta = timedelta(minutes=10),
    ) -> None:
        self._store = store
        self._directory = directory
        self._on_queued = on_queued
        self._observer: RelayObserver = observer or SilentObserver()
        self._citizens = CitizenSide(
            directory=directory, router=router, limits=limits or Limits(), menu_timeout=menu_timeout
        )
        self._staff = StaffSide(directory=directory)
        self._jobs: dict[str, Callable[[Casework, DueJob], Awaitable[None]]] = {
            MENU_TIMEOUT: self._citizens.menu_timed_out,
        }

    @property
    def directory(self) -> Directory:
        """The departments this relay routes to."""
        return self._directory

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

    async def _postpone(self, job_id: JobId) -> None:
        async def later(tx: Tx) -> None:
            await tx.postpone_job(job_id, until=tx.now + JOB_RETRY)

        await self._store.atomic(later)

    async def _commit(self, body: Callable[[Casework], Awaitable[T]]) -> T:
        """Run ``body`` in one transaction; what it noted in its ``Effects`` fires once, after the commit."""

        async def attempt(tx: Tx) -> tuple[T, Effects]:
            effects = Effects()  # a retried attempt starts afresh: nothing is counted twice
            return await body(Casework(tx, directory=self._directory, effects=effects)), effects

        result, effects = await self._store.atomic(attempt)
        effects.fire(self._observer)
        return result


__all__ = ["MENU_TIMEOUT", "OTHER", "Limits", "Relay", "Transactions"]
