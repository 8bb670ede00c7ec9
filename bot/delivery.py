"""The delivery worker: drains the outbox through the adapters, at least once, in lane order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, Self

from bot.bulk import BulkLimits
from bot.model import CitizenReply, Delivery, DeliveryId, FileData, Outgoing, Sent, Side, ThreadPost
from bot.ports import Channels, DeliveryError
from bot.retry import Backoff, Delay
from bot.storage.store import PacedDelivery, Store, Tx

log = logging.getLogger(__name__)

#: Seconds to wait after a delivery's ``attempts``-th failure: doubling up to five minutes, ±20%.
jittered_backoff = Backoff(first=1.0, cap=300.0, jitter=0.2)
#: The shortest sleep of an idle worker (seconds).
_MIN_NAP = 0.05
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


class Outcomes(Protocol):
    """Who hears how a delivery ended (the relay)."""

    async def sent_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        """The platform accepted these deliveries: record them in one transaction."""

    async def failed(self, delivery: Delivery, reason: str, *, gone: bool = False) -> None:
        """The delivery can never succeed; ``gone``: the recipient blocked the bot or no longer exists."""


class DeliveryObserver(Protocol):
    """Counts deliveries (metrics)."""

    def delivered(self, platform: str) -> None:
        """A delivery was sent."""

    def delivery_failed(self, platform: str, *, permanent: bool) -> None:
        """A delivery attempt failed."""


class Preparation(Protocol):
    """A last step before a send (machine translation): the delivery as it should go out. Never raises."""

    async def prepare(self, delivery: Delivery) -> Delivery:
        """``delivery``, or a copy whose body is ready to send."""


class _Silent:
    def delivered(self, platform: str) -> None:
        pass

    def delivery_failed(self, platform: str, *, permanent: bool) -> None:
        pass


class DeliveryWorker:
    """Claims due outbox rows, sends each through the channel of its side and platform, records the result.

    Case traffic is claimed first and sent at once. Bulk rows (broadcasts) are claimed per citizen
    platform within the budget every process shares (``bulk``), each sent at its slot by a task of
    its own, so the next look at the outbox, and a staff reply it finds, never waits for them.
    """

    def __init__(
        self,
        *,
        store: Store,
        channels: Channels,
        outcomes: Outcomes,
        backoff: Delay = jittered_backoff,
        batch: int = 64,
        lease: timedelta = timedelta(seconds=120),
        idle_poll: float = 1.0,
        observer: DeliveryObserver | None = None,
        grace: float = 10.0,
        preparation: Preparation | None = None,
        bulk: BulkLimits | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._channels = channels
        self._outcomes = outcomes
        self._backoff = backoff
        self._batch = batch
        self._lease = lease
        self._idle_poll = idle_poll
        self._observer: DeliveryObserver = observer or _Silent()
        self._grace = grace
        self._preparation = preparation
        self._bulk = bulk or BulkLimits()
        self._sleep = sleep
        # Bulk sends claimed and waiting for their slot or under way, by platform.
        self._paced: dict[str, set[asyncio.Task[None]]] = {}
        # Of those, the ones still waiting for their slot (given back if the platform says slow down).
        self._waiting: dict[str, dict[asyncio.Task[None], PacedDelivery]] = {}
        self._bulk_sends = {platform: asyncio.Semaphore(self._bulk.concurrency) for platform in channels.citizen}
        # When to try a bulk claim for a platform next; absent: no bulk row was seen waiting there.
        self._bulk_due: dict[str, datetime] = dict.fromkeys(channels.citizen, _LONG_AGO)
        # Platforms whose next bulk claim waits for the budget this worker has just used (not for rows to appear).
        self._budget_bound: set[str] = set()
        # The store's count of commits that queued bulk rows, as last seen: a change means a new broadcast here.
        self._bulk_commits = store.bulk_commits
        # When (event-loop time) each platform's bulk rows were last looked for: other processes' broadcasts.
        self._bulk_polled: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Claimed and not finished: id -> attempts as claimed (the claim's token: see ``Store.release``).
        self._in_flight: dict[DeliveryId, int] = {}
        # Sends that finished while the previous ones were being recorded: recorded together, one transaction.
        self._finished: list[tuple[Delivery, Sent, asyncio.Future[None]]] = []
        self._recorder: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def _notice_bulk(self) -> None:
        """A broadcast was queued in this process since the last look: every platform's bulk rows are worth a claim.

        Case traffic rings the worker far more often than broadcasts start: it costs no bulk query.
        """
        if self._store.bulk_commits == self._bulk_commits:
            return
        self._bulk_commits = self._store.bulk_commits
        for platform in self._channels.citizen:
            if platform not in self._budget_bound:  # a platform mid-broadcast claims when its budget allows
                self._bulk_due[platform] = _LONG_AGO

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name="delivery-worker")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Stop claiming; let sends under way finish for ``grace`` seconds, then release the rest."""
        if self._task is None:
            return
        self._stopping.set()
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self._grace)
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        if self._recorder is not None and not self._recorder.done():
            # Sends already made are recorded before anything is given back.
            with contextlib.suppress(Exception):
                await self._recorder
        if self._in_flight:
            # Claimed but unfinished: due again at once, for this or another process; a row another
            # process claimed since (our lease ran out) stays with it, so it is never sent twice.
            await self._store.release(tuple(self._in_flight.items()))
            self._in_flight.clear()

    async def drain_once(self) -> int:
        """Send one batch of due deliveries, bulk ones at their slots; returns how many were attempted."""
        count = await self.look_once()
        await self.paced_sends()
        return count

    async def look_once(self) -> int:
        """Claim once: case traffic is sent before this returns; bulk rows are left sending at their slots."""
        claimed = await self._store.claim_due(limit=self._batch, lease=self._lease)
        if claimed:  # case traffic first: a reply queued before a broadcast reaches its chat before it
            self._in_flight.update((d.id, d.attempts) for d in claimed)
            await asyncio.gather(*(self._deliver(delivery) for delivery in claimed))
        return len(claimed) + await self._claim_bulk()

    async def paced_sends(self) -> None:
        """Wait for the bulk sends claimed so far."""
        while tasks := [task for group in self._paced.values() for task in group]:
            await asyncio.gather(*tasks, return_exceptions=True)  # a send given back was cancelled

    async def _claim_bulk(self) -> int:
        """Claim each citizen platform's due bulk rows its budget allows; each is sent by a task at its slot."""
        self._notice_bulk()
        count = 0
        for platform in self._channels.citizen:
            group = self._paced.setdefault(platform, set())
            room = self._bulk.batch - len(group)
            due = self._bulk_due.get(platform)
            if room <= 0 or due is None or due > self._store.now():
                continue
            claimed = await self._store.claim_bulk(
                platform, self._bulk.limit(platform), most=room, look_ahead=self._bulk.look_ahead, lease=self._lease
            )
            if claimed:
                # The next claim is worth a look once half the window claimed ahead has gone by.
                self._budget_bound.add(platform)
                ahead = timedelta(seconds=self._bulk.look_ahead / 2)
                self._bulk_due[platform] = max(p.send_at for p in claimed) - ahead
            else:  # the budget or the rows' turns say when to try again
                self._budget_bound.discard(platform)
                await self._look_for_bulk(platform)
            self._in_flight.update((p.delivery.id, p.delivery.attempts) for p in claimed)
            for paced in claimed:
                task = asyncio.create_task(self._at_slot(paced), name=f"bulk-{paced.delivery.id}")
                self._waiting.setdefault(platform, {})[task] = paced
                group.add(task)
                task.add_done_callback(group.discard)
            count += len(claimed)
        return count

    async def _at_slot(self, paced: PacedDelivery) -> None:
        wait = (paced.send_at - self._store.now()).total_seconds()
        if wait > 0:
            await self._sleep(wait)
        task = asyncio.current_task()
        if task is not None:
            self._waiting.get(paced.delivery.target.platform, {}).pop(task, None)
        await self._deliver(paced.delivery, gate=self._bulk_sends[paced.delivery.target.platform])

    async def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                # Cleared before looking, so a ring during the look is not lost.
                self._wake.clear()
                try:
                    if await self.look_once():
                        continue
                    await self._sleep_until_due()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery worker: an outbox pass failed; trying again shortly")
                    await asyncio.sleep(self._idle_poll)
            await self.paced_sends()  # bulk sends already claimed go at their slots (``grace`` bounds the wait)
        finally:
            # Cut off: sends not yet made stay in flight and are given back by ``__aexit__``.
            tasks = [task for group in self._paced.values() for task in group]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _sleep_until_due(self) -> None:
        """Nothing was claimable: sleep until the next lane head is due (a ring wakes it sooner).

        At least ``_MIN_NAP``: a row due yet not claimable (another process holds its lock) must not
        turn the worker into a busy loop on the database.
        """
        due = await self._next_due()
        wait = self._idle_poll
        if due is not None:
            wait = min(wait, max(_MIN_NAP, (due - self._store.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _next_due(self) -> datetime | None:
        """The earliest a look may find something: a case lane's head, or a platform's bulk turn.

        Bulk rows another process queued are looked for at most once per ``idle_poll`` and platform.
        """
        times = [await self._store.next_due_at()]
        clock = asyncio.get_running_loop().time()
        for platform in self._channels.citizen:
            if len(self._paced.get(platform, ())) >= self._bulk.batch:
                continue  # its sends finishing will make room; the next look tries
            if platform not in self._budget_bound and clock - self._bulk_polled.get(platform, -1e9) >= self._idle_poll:
                self._bulk_polled[platform] = clock
                await self._look_for_bulk(platform)
            times.append(self._bulk_due.get(platform))
        return min((t for t in times if t is not None), default=None)

    async def _look_for_bulk(self, platform: str) -> None:
        """Note when a bulk claim for ``platform`` may next find something (forgotten when no bulk row waits)."""
        limit = self._bulk.limit(platform)
        due = await self._store.next_bulk_at(platform, limit, look_ahead=self._bulk.look_ahead)
        if due is None:
            self._bulk_due.pop(platform, None)
        else:
            self._bulk_due[platform] = due

    async def _deliver(self, delivery: Delivery, *, gate: asyncio.Semaphore | None = None) -> None:
        try:
            await self._attempt(delivery, gate)
        finally:
            # Finished, even by an error: no longer ours. Cut off mid-send: still in flight, given back at shutdown.
            if not _cancelling():
                self._in_flight.pop(delivery.id, None)

    async def _attempt(self, delivery: Delivery, gate: asyncio.Semaphore | None) -> None:
        if self._preparation is not None:
            delivery = await self._preparation.prepare(delivery)
        platform = delivery.target.platform
        send = self._sender(delivery)
        if send is None:
            await self._retry(delivery, f"no {platform} connection is configured", None)
            return
        if delivery.in_case_thread and delivery.target.thread is None:
            await self._outcomes.failed(delivery, "the case's thread was never created")
            return
        try:
            files = await self._files(delivery)
            async with gate or contextlib.nullcontext():  # bulk: a few sends at once; recording is outside
                sent = await send(files)
        except DeliveryError as error:
            self._observer.delivery_failed(platform, permanent=error.permanent)
            if error.permanent:
                log.warning("delivery %s to %s failed for good: %s", delivery.id, platform, error.reason)
                await self._outcomes.failed(delivery, error.reason, gone=error.gone)
            else:
                await self._retry(delivery, error.reason, error.retry_after)
            return
        except Exception as error:  # an adapter bug must not stop the worker or lose the row
            log.exception("delivery %s to %s raised; will retry", delivery.id, platform)
            self._observer.delivery_failed(platform, permanent=False)
            await self._retry(delivery, f"{type(error).__name__}", None)
            return
        self._observer.delivered(platform)
        await self._record_sent(delivery, sent)

    def _sender(self, delivery: Delivery) -> Callable[[tuple[FileData, ...]], Awaitable[Sent]] | None:
        """The send through the channel of the delivery's side on its target's platform; None if there is none."""
        target, key = delivery.target, f"d{delivery.id}"
        match delivery.side, delivery.body:
            case Side.CITIZEN, CitizenReply() as reply:
                citizen = self._channels.citizen.get(target.platform)
                if citizen is not None:
                    return lambda files: citizen.send(Outgoing(target, reply, files, key, delivery.attempts))
            case Side.DEPARTMENT, ThreadPost() as post:
                department = self._channels.department.get(target.platform)
                if department is not None:
                    return lambda files: department.send(Outgoing(target, post, files, key, delivery.attempts))
        return None

    async def _record_sent(self, delivery: Delivery, sent: Sent) -> None:
        """Return once the send is recorded; sends finishing meanwhile share the next transaction (group commit)."""
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._finished.append((delivery, sent, recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_finished(), name="delivery-recorder")
        await asyncio.shield(recorded)

    async def _record_finished(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                await self._outcomes.sent_all([(delivery, sent) for delivery, sent, _ in batch])
            except Exception as error:  # noqa: BLE001  # handed to each waiting send, as if it had recorded alone
                for *_, recorded in batch:
                    recorded.set_exception(error)
            else:
                for *_, recorded in batch:
                    recorded.set_result(None)

    async def _retry(self, delivery: Delivery, reason: str, retry_after: float | None) -> None:
        # A platform that names its wait (429 Retry-After) is rate-limiting the channel, not failing this
        # message: try again exactly then (the channel is paused until then for every process).
        wait = retry_after if retry_after is not None else self._backoff(delivery.attempts)
        at = self._store.now() + timedelta(seconds=wait)
        log.info("delivery %s: %s; retrying in %.1fs", delivery.id, reason, wait)
        if retry_after is not None:
            # This process's bulk sends waiting for their slots stop first, before any await lets a slot come.
            claims = self._stop_waiting_bulk(delivery.target.platform, until=at) if delivery.bulk else []
            await self._store.pause(delivery.target, until=self._store.now() + timedelta(seconds=retry_after))
            if delivery.bulk:  # every process's broadcast backs off, not only this chat's
                await self._store.hold_bulk(delivery.target.platform, until=at)
                if claims:
                    await self._store.release(claims)  # due again after the hold
        await self._store.retry_later(delivery.id, at=at, error=reason, claimed_attempts=delivery.attempts)

    def _stop_waiting_bulk(self, platform: str, *, until: datetime) -> list[tuple[DeliveryId, int]]:
        """Cancel this process's bulk sends for ``platform`` not yet at their slot; their claims, to give back."""
        waiting, self._waiting[platform] = self._waiting.get(platform, {}), {}
        for task in waiting:
            task.cancel()
        claims = [(paced.delivery.id, paced.delivery.attempts) for paced in waiting.values()]
        for delivery_id, _ in claims:
            self._in_flight.pop(delivery_id, None)
        self._budget_bound.discard(platform)
        self._bulk_due[platform] = until
        return claims

    async def _files(self, delivery: Delivery) -> tuple[FileData, ...]:
        attachments = delivery.body.attachments
        if not attachments:
            return ()

        async def load(tx: Tx) -> tuple[FileData, ...]:
            loaded = [await tx.load_file(attachment) for attachment in attachments]
            return tuple(f for f in loaded if f is not None)

        return await self._store.read(load)


def _cancelling() -> bool:
    """Whether the running task is being cancelled (its send did not finish)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
