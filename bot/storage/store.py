"""The store: every read and write the relay, the delivery worker and the desk make.

``Store.atomic(work)`` runs ``work(tx)`` in one write transaction (again if it lost
a race, see ``bot.storage.engine``); ``Store.read(work)`` in a read-only one.
``Tx`` joins each entity's queries (``cases``, ``citizens``, ``messages``,
``outbox``, ``inbound``, ``blobs``, ``views``) over one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from bot.bulk import BulkLimit
from bot.model import Address, Delivery, DeliveryId, DeliveryState, Sent
from bot.storage.blobs import BlobQueries
from bot.storage.bulk import BulkQueries, PacedDelivery
from bot.storage.cases import CaseQueries, new_reference
from bot.storage.citizens import CitizenQueries
from bot.storage.consultations import ConsultationQueries
from bot.storage.engine import Clock, Database, Executor, utc_now
from bot.storage.inbound import EventQueries
from bot.storage.inbox import InboxQueries
from bot.storage.jobs import JobQueries
from bot.storage.learned import LearnedQueries
from bot.storage.messages import MessageQueries
from bot.storage.outbox import ASYNC_COMMIT, OutboxQueries, OutboxStats, pause_key
from bot.storage.ratings import RatingQueries
from bot.storage.set_aside import SetAsideQueries
from bot.storage.threads import ThreadQueries
from bot.storage.translations import TranslationQueries
from bot.storage.views import ViewQueries

__all__ = ["Clock", "OutboxStats", "PacedDelivery", "Store", "Tx", "new_reference", "pause_key", "utc_now"]

T = TypeVar("T")


class Tx(
    EventQueries,
    CitizenQueries,
    CaseQueries,
    MessageQueries,
    BlobQueries,
    OutboxQueries,
    BulkQueries,
    ViewQueries,
    InboxQueries,
    SetAsideQueries,
    ThreadQueries,
    TranslationQueries,
    JobQueries,
    LearnedQueries,
    ConsultationQueries,
    RatingQueries,
):
    """One transaction's worth of queries. Created by ``Store.atomic`` / ``Store.read``."""


class Store(Database):
    """The database with its queries: ``atomic`` for writes, ``read`` for reads, and the delivery worker's calls."""

    #: How many transactions of this process committed bulk deliveries: the worker looks for bulk rows when it moves.
    bulk_commits = 0

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction, again if a unique constraint or the database says it lost a race.

        ``work`` may be run more than once: keep side effects that must happen once outside it.
        On a SQLite file it runs on the database thread and may await only the ``Tx``.
        """
        last: list[Tx] = []

        def body(connection: Executor, now: datetime) -> Awaitable[T]:
            tx = Tx(connection, now)
            last[:] = [tx]  # the attempt that committed is the last one begun
            return work(tx)

        result = await self.transaction(body, write=True)
        if last[0].bulk_queued:
            self.bulk_commits += 1
        return result

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in a read-only transaction (on a SQLite file, on the database thread)."""

        def body(connection: Executor, now: datetime) -> Awaitable[T]:
            return work(Tx(connection, now))

        return await self.transaction(body, write=False)

    # --- the delivery worker's side ------------------------------------------------

    async def claim_due(self, *, limit: int, lease: timedelta) -> list[Delivery]:
        """Take up to ``limit`` due deliveries, the oldest of each (case, side) lane.

        A claimed row stays pending with ``next_attempt_at`` pushed one lease
        ahead: if this process dies mid-send, the row is due again after the
        lease, so nothing is lost. Rows behind it in its lane wait.
        """
        postgres = not self.is_sqlite

        async def claim(tx: Tx) -> list[Delivery]:
            if postgres:
                await tx.connection.execute(ASYNC_COMMIT)
            return await tx.claim_due(limit=limit, lease=lease, skip_locked=postgres)

        return await self.atomic(claim)

    async def claim_bulk(
        self, platform: str, limit: BulkLimit, *, most: int, look_ahead: float, lease: timedelta
    ) -> list[PacedDelivery]:
        """Take up to ``most`` due bulk deliveries to ``platform``, as many as its shared budget allows.

        Each comes with its slot (send it then); the slots of every process's claims never overlap.
        Claimed rows are leased as ``claim_due``'s are.
        """
        postgres = not self.is_sqlite

        async def claim(tx: Tx) -> list[PacedDelivery]:
            if postgres:
                await tx.connection.execute(ASYNC_COMMIT)
            return await tx.claim_bulk(
                platform, limit, most=most, look_ahead=look_ahead, lease=lease, skip_locked=postgres
            )

        return await self.atomic(claim)

    async def next_bulk_at(self, platform: str, limit: BulkLimit, *, look_ahead: float) -> datetime | None:
        """When a bulk claim for ``platform`` may next find something (None: no bulk row waits)."""

        async def due(tx: Tx) -> datetime | None:
            return await tx.next_bulk_at(platform, limit, look_ahead=look_ahead)

        return await self.read(due)

    async def hold_bulk(self, platform: str, *, until: datetime) -> None:
        """A platform asked us to wait: no process sends bulk to it before ``until``."""

        async def hold(tx: Tx) -> None:
            await tx.hold_bulk(platform, until)

        await self.atomic(hold)

    async def complete(self, delivery: Delivery, sent: Sent) -> None:
        """Record a successful send and what it tells us (a new thread, a delivered id)."""

        async def done(tx: Tx) -> None:
            await tx.complete(delivery, sent)

        await self.atomic(done)

    async def retry_later(
        self, delivery_id: DeliveryId, *, at: datetime, error: str, claimed_attempts: int | None = None
    ) -> None:
        """Keep a delivery pending after a transient failure, due again at ``at``.

        With ``claimed_attempts`` (the worker's claim), nothing changes once another process claimed the row.
        """

        async def later(tx: Tx) -> None:
            await tx.set_delivery(delivery_id, next_attempt_at=at, last_error=error, claimed_attempts=claimed_attempts)

        await self.atomic(later)

    async def fail(self, delivery_id: DeliveryId, *, error: str) -> None:
        """Stop retrying a delivery: the platform said it can never succeed."""

        async def failed(tx: Tx) -> None:
            await tx.set_delivery(delivery_id, state=DeliveryState.FAILED, last_error=error)

        await self.atomic(failed)

    async def pause(self, target: Address, *, until: datetime) -> None:
        """A platform asked us to wait: no process sends to this chat or channel before ``until``."""

        async def hold(tx: Tx) -> None:
            await tx.pause(target, until)

        await self.atomic(hold)

    async def release(self, claims: Sequence[tuple[DeliveryId, int]]) -> None:
        """Give claimed deliveries back: due now, their attempt not counted (a shutdown, not a failure).

        Each claim is ``(delivery id, attempts as claimed)``: a row another process claimed since stays its.
        """

        async def give_back(tx: Tx) -> None:
            await tx.release(claims)

        await self.atomic(give_back)

    async def outbox_stats(self) -> OutboxStats:
        """Depth and age of the outbox, for /healthz and /metrics."""

        async def stats(tx: Tx) -> OutboxStats:
            return await tx.outbox_stats()

        return await self.read(stats)

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending delivery is due (the worker sleeps until then)."""

        async def due(tx: Tx) -> datetime | None:
            return await tx.next_due_at()

        return await self.read(due)
