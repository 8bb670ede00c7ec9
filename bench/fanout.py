"""Measurement 8: a broadcast fanned out to many subscribers through the real worker and Telegram client.

The bridge's bulk rate (``BRIDGE_BULK_TELEGRAM_PER_SECOND``) is ``rate``; the
Telegram emulator enforces flood limits a fifth above it overall (room for case
traffic, as Telegram's ~30/s is over the default 25/s; a token bucket of a tenth
of a second's worth) and one send a second per chat, answering 429 with
retry_after beyond them. The floor is the subscribers at the bulk rate.
Telegram's real limits would make the 100,000 floor ~55 minutes, so the rates
here are higher on both sides: the ratio measured/floor is what carries over. While the broadcast drains, staff replies
(case traffic) are queued at intervals; their latency is queue-to-arrival.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from adapters.telegram import from_settings as telegram_from_settings
from bench.common import Options, Row, database, spread
from bench.platforms import no_proxies
from bot.bulk import BulkLimits
from bot.delivery import DeliveryWorker
from bot.departments import Department, Directory
from bot.events import InboundEvent
from bot.model import SLACK, TELEGRAM, Address, CitizenReply, Delivery, DepartmentKey, ReplyKind, Sent, Side
from bot.ports import Channels
from bot.storage.store import Store, Tx
from config.settings import Settings
from tests.emulators.telegram import TelegramEmulator

NAME = "8 broadcast fan-out"
NOTICE = CitizenReply(ReplyKind.SYSTEM, "Mill Lane is closed on Saturday 8-14h. Reply STOP to stop these notices.", "")
FIRST_CHAT = 10_000_000
STAFF_CHAT = 900_000
REPLIES = 20
#: The platform's overall limit over the bulk rate: room for case traffic, as Telegram's ~30/s over the default 25/s.
HEADROOM = 1.2
DIRECTORY = Directory(
    departments=(Department(DepartmentKey("general"), "General", Address(SLACK, "C0GENERAL")),),
    fallback=DepartmentKey("general"),
)


@dataclass(frozen=True, slots=True)
class Size:
    """Subscribers per broadcast and the bulk rate configured on both sides."""

    subscribers: tuple[int, ...]
    rate: float


def size(options: Options) -> Size:
    """10,000 and 100,000 subscribers at 200/s (what this 2-core machine sustains); --quick: 400 at 200/s."""
    return Size((400,), 200.0) if options.quick else Size((10_000, 100_000), 200.0)


class FloodLimitedTelegram(TelegramEmulator):
    """The Bot API emulator under flood limits, counting broadcast sends and timing the staff replies."""

    def __init__(self) -> None:
        super().__init__(record_calls=False)
        self.bulk_chats: set[str] = set()
        self.bulk_sends = 0
        self.last_bulk = 0.0
        self.replies: dict[str, float] = {}

    async def _m_sendMessage(self, params: dict[str, str], files: object) -> Any:  # noqa: N802, ANN401  # Bot API name; JSON
        chat, now = params.get("chat_id", ""), time.perf_counter()
        if int(chat) >= FIRST_CHAT:
            self.bulk_sends += 1
            self.bulk_chats.add(chat)
            self.last_bulk = now
        else:
            self.replies.setdefault(chat, now)
        return await super()._m_sendMessage(params, files)


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


async def fan_out(store: Store, subscribers: int, rate: float) -> dict[str, float]:
    """Queue one broadcast, drain it through the worker into the limited emulator; the figures."""
    async with FloodLimitedTelegram() as telegram:
        telegram.limit(per_second=rate * HEADROOM, per_chat_interval=1.0)
        settings = Settings(
            telegram_token=SecretStr(telegram.token),
            telegram_api_url=telegram.api_url,
            bulk_telegram_per_second=rate,
            telegram_sends_per_second=rate * HEADROOM,  # as Telegram's ~30/s over the default bulk 25/s
        )
        adapter = telegram_from_settings(settings, directory=DIRECTORY)
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
            targets = [(Address(TELEGRAM, str(FIRST_CHAT + n)), NOTICE) for n in range(subscribers)]

            async def queue(tx: Tx) -> int:
                return await tx.enqueue_bulk(Side.CITIZEN, targets)

            began = time.perf_counter()
            await store.atomic(queue)
            started = time.perf_counter()
            floor = subscribers / rate
            async with worker:
                worker.wake()
                latencies = await staff_replies(store, worker, telegram, every=floor / REPLIES)
                deadline = started + max(60.0, floor * 3)
                while telegram.bulk_sends < subscribers and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
        finally:
            await adapter.stop()
    drained = telegram.last_bulk - started
    return {
        "subscribers": subscribers,
        "drain_s": drained,
        "floor_s": floor,
        "ratio": drained / floor if floor else float("nan"),
        "enqueue_s": started - began,
        "rejected_429": telegram.rejected,
        "missing": subscribers - len(telegram.bulk_chats),
        "duplicates": telegram.bulk_sends - len(telegram.bulk_chats),
        "failed": outcomes.failed_count,
        **{f"reply_{key}": value for key, value in spread(latencies).items()},
    }


async def staff_replies(
    store: Store, worker: DeliveryWorker, telegram: FloodLimitedTelegram, *, every: float
) -> list[float]:
    """Queue ``REPLIES`` staff replies, one every ``every`` seconds while the broadcast drains; their latencies (ms)."""
    queued: dict[str, float] = {}
    for n in range(REPLIES):
        await asyncio.sleep(every)
        chat = str(STAFF_CHAT + n)
        body = CitizenReply(ReplyKind.STAFF, f"We fixed it, reply {n}.", f"RD-{n:04d}", "Roads")

        async def reply(tx: Tx, chat: str = chat, body: CitizenReply = body) -> None:
            target = Address(TELEGRAM, chat)
            await tx.enqueue(case_id=None, side=Side.CITIZEN, lane=f"case:bench-{chat}", target=target, body=body)

        queued[chat] = time.perf_counter()
        await store.atomic(reply)
        worker.wake()  # as the relay rings it after queueing
    deadline = time.perf_counter() + 30
    while len(telegram.replies) < REPLIES and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    return [(telegram.replies[chat] - at) * 1000 for chat, at in queued.items() if chat in telegram.replies]


async def measure(backend: str, options: Options) -> list[Row]:
    """One row per broadcast size: drain time against the limit's floor, and staff reply latency meanwhile."""
    no_proxies()
    s = size(options)
    rows = []
    for subscribers in s.subscribers:
        async with database(backend, options) as db:
            figures = await fan_out(db.store, subscribers, s.rate)
        lost = "nothing lost, each once" if not figures["missing"] and not figures["duplicates"] else (
            f"{figures['missing']:.0f} missing, {figures['duplicates']:.0f} duplicates")  # fmt: skip
        rows.append(
            Row(
                NAME,
                backend,
                f"{subscribers:,}: {figures['drain_s']:.1f} s; staff reply p50 {figures['reply_p50_ms']:.0f} ms, "
                f"max {figures['reply_max_ms']:.0f} ms",
                figures,
                floor=f"{figures['floor_s']:.1f} s",
                ratio=figures["ratio"],
                notes=(
                    f"bulk {s.rate:,.0f}/s, emulated Telegram {s.rate * HEADROOM:,.0f}/s overall and 1/s per chat "
                    "(Telegram's ~30/s scaled up); "
                    f"queueing took {figures['enqueue_s']:.1f} s; {figures['rejected_429']:.0f} × 429; {lost}"
                ),
            )
        )
    return rows
