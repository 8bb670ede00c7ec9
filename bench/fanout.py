"""Measurement 8: a broadcast fanned out to many subscribers through the real worker and each platform's client.

For each platform (``bench.fanout_platforms``: Telegram, Discord) the bridge's bulk
rate (``BRIDGE_BULK_TELEGRAM_PER_SECOND``, ``BRIDGE_BULK_DISCORD_PER_SECOND``) is
``rate``, and the platform's emulator enforces its limits with the overall one a
fifth above it (room for case traffic, as Telegram's ~30/s is over the default
25/s): Telegram's flood limits (overall, one send a second per chat), Discord's
global budget and its per-channel message bucket, each answering 429 beyond them
as the platform does. The floor is the subscribers at the bulk rate. The real
limits (Telegram ~30/s, Discord 50/s) would make the 100,000 floor close to an
hour, so the rates here are higher on both sides: the ratio measured/floor is what
carries over. While the broadcast drains, staff replies (case traffic) are queued
at intervals; their latency is queue-to-arrival.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import Options, Row, database, spread
from bench.fanout_platforms import PLATFORMS, FanoutPlatform, Tally
from bench.platforms import no_proxies
from bot.bulk import BulkLimits
from bot.delivery import DeliveryWorker
from bot.events import InboundEvent
from bot.model import Address, CitizenReply, Delivery, ReplyKind, Sent, Side
from bot.ports import Channels
from bot.storage.store import Store, Tx

NAME = "8 broadcast fan-out"
NOTICE = CitizenReply(ReplyKind.SYSTEM, "Mill Lane is closed on Saturday 8-14h. Reply STOP to stop these notices.", "")
REPLIES = 20
#: The platform's overall limit over the bulk rate: room for case traffic, as Telegram's ~30/s over the default 25/s.
HEADROOM = 1.2


@dataclass(frozen=True, slots=True)
class Size:
    """Subscribers per broadcast and the bulk rate configured on both sides."""

    subscribers: tuple[int, ...]
    rate: float


def size(options: Options) -> Size:
    """10,000 and 100,000 subscribers at 200/s (what this 2-core machine sustains); --quick: 400 at 200/s."""
    return Size((400,), 200.0) if options.quick else Size((10_000, 100_000), 200.0)


class Outcomes:
    """Records sends and failures as the relay does (one transaction per group), and rings the worker."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.worker: DeliveryWorker | None = None
        self.failed_count = 0

    async def sent_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        """Record the sends in one transaction; rows behind them in their lanes are now due."""

        async def done(tx: Tx) -> None:
            await tx.complete_all(results)

        await self._store.atomic(done)
        if self.worker is not None:
            self.worker.wake()

    async def failed(self, delivery: Delivery, reason: str, *, gone: bool = False) -> None:
        """Count and record a permanent failure (``gone`` or not: the bench has no subscriptions to drop)."""
        del gone
        self.failed_count += 1
        await self._store.fail(delivery.id, error=reason)


class NoIntake:
    """The adapter's sink: nothing arrives from citizens in this measurement."""

    async def accept(self, event: InboundEvent) -> None:
        """Nothing to store."""
        del event


async def fan_out(store: Store, platform: FanoutPlatform[Any], subscribers: int, rate: float) -> dict[str, float]:
    """Queue one broadcast, drain it through the worker into the platform's limited emulator; the figures."""
    tally = Tally(staff=[str(platform.staff_chat + n) for n in range(REPLIES)])
    overall = rate * HEADROOM
    async with platform.emulator(tally, overall) as emulator:
        settings = platform.settings(emulator, rate, overall)
        adapter = platform.adapter(settings)
        outcomes = Outcomes(store)
        worker = DeliveryWorker(
            store=store,
            channels=Channels.of(citizen=(adapter,)),
            outcomes=outcomes,
            bulk=BulkLimits.from_settings(settings),
        )
        outcomes.worker = worker
        await adapter.start(NoIntake())
        try:
            while adapter.health() != "up":
                await asyncio.sleep(0.01)
            targets = [(Address(platform.platform, str(platform.first_chat + n)), NOTICE) for n in range(subscribers)]

            async def queue(tx: Tx) -> int:
                return await tx.enqueue_bulk(Side.CITIZEN, targets)

            began = time.perf_counter()
            await store.atomic(queue)
            started = time.perf_counter()
            floor = subscribers / rate
            async with worker:
                worker.wake()
                latencies = await staff_replies(store, worker, platform, tally, every=floor / REPLIES)
                deadline = started + max(60.0, floor * 3)
                while tally.bulk_sends < subscribers and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
        finally:
            await adapter.stop()
    drained = tally.last_bulk - started
    return {
        "subscribers": subscribers,
        "drain_s": drained,
        "floor_s": floor,
        "ratio": drained / floor if floor else float("nan"),
        "enqueue_s": started - began,
        "rejected_429": emulator.rejected,
        "missing": subscribers - len(tally.bulk_chats),
        "duplicates": tally.bulk_sends - len(tally.bulk_chats),
        "failed": outcomes.failed_count,
        "replies": len(latencies),
        **{f"reply_{key}": value for key, value in spread(latencies).items()},
    }


async def staff_replies(
    store: Store, worker: DeliveryWorker, platform: FanoutPlatform[Any], tally: Tally, *, every: float
) -> list[float]:
    """Queue ``REPLIES`` staff replies, one every ``every`` seconds while the broadcast drains; their latencies (ms)."""
    queued: dict[str, float] = {}
    for n in range(REPLIES):
        await asyncio.sleep(every)
        chat = str(platform.staff_chat + n)
        body = CitizenReply(ReplyKind.STAFF, f"We fixed it, reply {n}.", f"RD-{n:04d}", "Roads")

        async def reply(tx: Tx, chat: str = chat, body: CitizenReply = body) -> None:
            target = Address(platform.platform, chat)
            await tx.enqueue(case_id=None, side=Side.CITIZEN, lane=f"case:bench-{chat}", target=target, body=body)

        queued[chat] = time.perf_counter()
        await store.atomic(reply)
        worker.wake()  # as the relay rings it after queueing
    deadline = time.perf_counter() + 30
    while len(tally.replies) < REPLIES and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    return [(tally.replies[chat] - at) * 1000 for chat, at in queued.items() if chat in tally.replies]


async def measure(backend: str, options: Options) -> list[Row]:
    """One row per platform and broadcast size: drain time against the floor, and staff reply latency meanwhile."""
    no_proxies()
    s = size(options)
    rows = []
    for platform in PLATFORMS:
        for subscribers in s.subscribers:
            async with database(backend, options) as db:
                figures = await fan_out(db.store, platform, subscribers, s.rate)
            rows.append(row(backend, platform, s.rate, figures))
    return rows


def row(backend: str, platform: FanoutPlatform[Any], rate: float, figures: dict[str, float]) -> Row:
    """The table line of one fan-out."""
    lost = "nothing lost, each once" if not figures["missing"] and not figures["duplicates"] else (
        f"{figures['missing']:.0f} missing, {figures['duplicates']:.0f} duplicates")  # fmt: skip
    return Row(
        NAME,
        backend,
        f"{platform.name} {figures['subscribers']:,.0f}: {figures['drain_s']:.1f} s; "
        f"staff reply p50 {figures['reply_p50_ms']:.0f} ms, max {figures['reply_max_ms']:.0f} ms",
        figures,
        floor=f"{figures['floor_s']:.1f} s",
        ratio=figures["ratio"],
        notes=(
            f"bulk {rate:,.0f}/s, {platform.limits.format(overall=rate * HEADROOM)}; "
            f"queueing took {figures['enqueue_s']:.1f} s; {figures['rejected_429']:.0f} × 429; "
            f"{figures['failed']:.0f} failed; {lost}"
        ),
    )
