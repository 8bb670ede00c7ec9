"""Bulk deliveries through the real delivery worker: case traffic first, the shared budget, per-chat spacing."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.bulk import BulkLimit, BulkLimits
from bot.delivery import DeliveryWorker
from bot.model import TELEGRAM, Address, CitizenReply, Delivery, DeliveryState, Outgoing, ReplyKind, Sent, Side
from bot.ports import Channels, DeliveryError
from bot.privacy import erase
from bot.storage.migrate import upgrade
from bot.storage.store import Store, Tx
from tests.backends import postgres_schema, postgres_url
from tests.bridge import Bridge
from tests.bulk.helpers import VirtualTime, all_deliveries, broadcast
from tests.fakes import FakeCitizenPlatform, FakeClock
from tests.waiting import eventually

Log = list[tuple[str, datetime]]


class TimedTelegram(FakeCitizenPlatform):
    """A fake Telegram noting, in ``log``, which chat each send went to and when (on the test's clock)."""

    def __init__(self, clock: FakeClock, log: list[tuple[str, datetime]]) -> None:
        super().__init__(TELEGRAM)
        self._clock = clock
        self.log = log

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        self.log.append((out.target.chat, self._clock.now))
        return await super().send(out)


class Recorded:
    """The outcomes, written straight to the store (the relay adds nothing a bulk row needs)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def sent_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        async def done(tx: Tx) -> None:
            await tx.complete_all(results)

        await self._store.atomic(done)

    async def failed(self, delivery: Delivery, reason: str, *, gone: bool = False) -> None:
        await self._store.fail(delivery.id, error=reason)


def worker(
    store: Store, time: VirtualTime, log: list[tuple[str, datetime]], limit: BulkLimit
) -> tuple[DeliveryWorker, TimedTelegram]:
    """A worker on ``store`` sending to a timed fake Telegram (returned too), sleeping in virtual time."""
    telegram = TimedTelegram(time.clock, log)
    return DeliveryWorker(
        store=store,
        channels=Channels.of(citizen=(telegram,)),
        outcomes=Recorded(store),
        bulk=BulkLimits({TELEGRAM: limit}, look_ahead=0.5, batch=100),
        sleep=time.sleep,
    ), telegram


def chats(count: int, first: int = 1000) -> list[Address]:
    """``count`` private Telegram chats."""
    return [Address(TELEGRAM, str(first + n)) for n in range(count)]


@asynccontextmanager
async def two_stores(backend: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Store, Store]]:
    """Two stores on one database, each with its own engine and connections, as two bridge processes have."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
        first, second = Store.open(url, clock=clock), Store.open(url, clock=clock)
        await upgrade(first.engine)
        try:
            yield first, second
        finally:
            await first.close()
            await second.close()
        return
    found = postgres_url()
    assert found is not None
    url = found
    async with postgres_schema(url) as schema:
        settings = {"server_settings": {"search_path": schema}}
        first = Store(engine=create_async_engine(url, connect_args=settings), clock=clock)
        second = Store(engine=create_async_engine(url, connect_args=settings), clock=clock)
        await upgrade(first.engine)
        try:
            yield first, second
        finally:
            await first.close()
            await second.close()


def most_in_any_second(times: Sequence[datetime]) -> int:
    """The most sends that fall in any one-second window."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= timedelta(seconds=1):
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_enqueue_bulk_queues_one_bulk_row_per_target_in_its_chat_lane(store: Store) -> None:
    """``enqueue_bulk`` queues one pending bulk row per target, each in its chat's bulk lane."""
    assert await broadcast(store, chats(3)) == 3
    rows = await all_deliveries(store)
    assert [(d.lane, d.bulk, d.state, d.case_id) for d in rows] == [
        (f"bulk:telegram:{1000 + n}", True, DeliveryState.PENDING, None) for n in range(3)
    ]


async def test_case_reply_goes_before_waiting_bulk_rows_and_outside_their_budget(
    store: Store, clock: FakeClock
) -> None:
    """A staff reply queued while a broadcast waits for its budget is sent at once, ahead of the bulk rows."""
    time, log = VirtualTime(clock), Log()
    sender, _ = worker(store, time, log, BulkLimit(per_second=10))
    await broadcast(store, chats(200))
    started = clock.now
    await sender.look_once()  # the first half second of the broadcast is claimed: the budget is spent

    async def reply(tx: Tx) -> None:
        body = CitizenReply(ReplyKind.STAFF, "We fixed the light.", "RD-0001", "Roads")
        await tx.enqueue(case_id=None, side=Side.CITIZEN, lane="case:1", target=Address(TELEGRAM, "42"), body=body)

    await store.atomic(reply)
    await sender.look_once()
    assert ("42", started) in log
    assert [chat for chat, _ in log].index("42") <= 1  # at most the bulk send whose slot was now went first
    await time.advance(1)
    await sender.paced_sends()
    assert len(log) == 1 + 6  # then the bulk rows, at their pace: 10 a second, half a second claimed ahead


async def test_two_workers_on_one_database_never_exceed_the_bulk_rate(
    backend: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Two workers on one database, draining one broadcast together, never send more than the rate in any second."""
    time, log = VirtualTime(clock), Log()
    async with two_stores(backend, tmp_path, clock) as (first, second):
        pairs = [worker(store, time, log, BulkLimit(per_second=40)) for store in (first, second)]
        workers = [each for each, _ in pairs]
        await broadcast(first, chats(200))
        started = clock.now
        for step in range(100):
            for each in workers[step % 2 :] + workers[: step % 2]:  # either process may look first
                await each.look_once()
            await time.advance(0.1)
            if len(log) == 200:
                break
        for each in workers:
            await each.paced_sends()
    assert len(log) == 200
    assert len({chat for chat, _ in log}) == 200
    assert most_in_any_second([at for _, at in log]) <= 40
    assert max(at for _, at in log) - started < timedelta(seconds=200 / 40 + 0.2)  # the budget is used, not wasted
    assert all(telegram.sent for _, telegram in pairs)  # both processes took turns


async def test_bulk_sends_to_one_chat_are_spaced_by_the_chat_interval(store: Store, clock: FakeClock) -> None:
    """Three broadcasts to the same chats reach each chat a second apart, however fast the platform budget."""
    time, log = VirtualTime(clock), Log()
    sender, _ = worker(store, time, log, BulkLimit(per_second=100, chat_interval=1.0))
    for _ in range(3):
        await broadcast(store, chats(2))
    for _ in range(40):
        await sender.look_once()
        await time.advance(0.1)
    await sender.paced_sends()
    for chat in ("1000", "1001"):
        times = [at for to, at in log if to == chat]
        assert len(times) == 3
        assert all(later - earlier >= timedelta(seconds=1) for earlier, later in itertools.pairwise(times))


@pytest.mark.parametrize("per_second", [None, 25.0])
async def test_permanent_failure_of_a_bulk_row_is_final_and_tells_outcomes(
    store: Store, clock: FakeClock, per_second: float | None
) -> None:
    """A bulk send the platform refuses for good is failed after one try, with or without a budget."""
    time, log = VirtualTime(clock), Log()
    sender, telegram = worker(store, time, log, BulkLimit(per_second=per_second))
    telegram.fail_next(DeliveryError("the citizen has blocked the bot", permanent=True))
    await broadcast(store, chats(1))
    await sender.drain_once()
    [row] = await all_deliveries(store)
    assert (row.state, row.attempts, row.bulk) == (DeliveryState.FAILED, 1, True)


async def test_a_draining_broadcast_does_not_make_the_outbox_look_stuck(store: Store, clock: FakeClock) -> None:
    """Broadcast rows count in the depth, but the oldest-pending age (``/healthz`` "stuck") is case traffic's."""
    await broadcast(store, chats(5))
    clock.advance(3600)
    stats = await store.outbox_stats()
    assert (stats.depth, stats.bulk_depth, stats.oldest_pending_at) == (5, 5, None)


async def test_erasing_a_citizen_drops_broadcast_rows_to_their_chat(bridge: Bridge) -> None:
    """An erased citizen's chat is named by no broadcast row afterwards: pending ones are never sent."""
    await bridge.telegram.receive(user=111, text="bin: collected late")
    await bridge.settle()
    await broadcast(bridge.store, [bridge.telegram.chat(111), bridge.telegram.chat(222)])
    reference = bridge.slack.threads[0].reference

    async def work(tx: Tx) -> None:
        case = await tx.case_by_reference(reference)
        assert case is not None
        await erase(tx, [case], actor="cli:test")

    await bridge.store.atomic(work)
    assert [d.target.chat for d in await all_deliveries(bridge.store) if d.bulk] == ["222"]


async def test_a_429_on_a_bulk_send_holds_the_platforms_whole_broadcast(store: Store, clock: FakeClock) -> None:
    """Retry-After on one bulk send holds every bulk send to that platform until it passes, claimed ones included."""
    time, log = VirtualTime(clock), Log()
    sender, telegram = worker(store, time, log, BulkLimit(per_second=2))  # half a second apart: one claimed ahead
    telegram.fail_next(DeliveryError("Telegram asked the bridge to slow down", retry_after=5.0))
    await broadcast(store, chats(3))
    started = clock.now
    for _ in range(100):
        await sender.look_once()
        await time.advance(0.1)
    await sender.paced_sends()
    refused, *after = log
    assert sorted(chat for chat, _ in after) == ["1000", "1001", "1002"]
    assert min(at for _, at in after) >= refused[1] + timedelta(seconds=5)
    assert refused[1] < started + timedelta(seconds=1)


async def test_an_idle_worker_finds_a_broadcast_another_process_queued(
    backend: str, tmp_path: Path, clock: FakeClock
) -> None:
    """A broadcast queued by another process (whose ring never reaches this one) goes out within the worker's poll."""
    log = Log()
    async with two_stores(backend, tmp_path, clock) as (mine, other):
        telegram = TimedTelegram(clock, log)
        worker = DeliveryWorker(
            store=mine,
            channels=Channels.of(citizen=(telegram,)),
            outcomes=Recorded(mine),
            bulk=BulkLimits({TELEGRAM: BulkLimit(per_second=1000)}),
            idle_poll=0.1,
        )
        async with worker:
            await asyncio.sleep(0.3)  # idle: it has looked and found nothing to send
            await broadcast(other, chats(3))
            await eventually(lambda: len(log) == 3, what="the other process's broadcast to reach its chats")
    assert sorted(chat for chat, _ in log) == ["1000", "1001", "1002"]
