"""Measurement 3: Telegram → Slack and Slack → Telegram through the real clients and the loopback emulators.

Rates stay inside the platforms' documented limits: Slack posts about one
message a second per channel, Telegram 30 a second overall and about one a
second per chat.
"""

from __future__ import annotations

import asyncio
import time

from bench.common import Options, Row, database, make_router, routed_texts, routing_config, slack_directory, spread
from bench.platforms import TimedSlack, TimedTelegram, bridged, no_proxies
from bot.model import TELEGRAM, Address
from bot.storage.store import Store, Tx

NAME = "3 end to end"
SLACK_PER_CHANNEL = 0.8  # messages a second per channel: under Slack's ~1/s
TELEGRAM_OVERALL = 20.0  # messages a second in all: under Telegram's 30/s


def seconds(options: Options) -> float:
    """How long each direction runs."""
    return 5.0 if options.quick else 30.0


async def wait_for(arrived: dict[int, float], wanted: set[int], timeout: float) -> None:
    """Poll with a deadline until every wanted tag arrived."""
    deadline = time.perf_counter() + timeout
    while not wanted <= arrived.keys():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{len(wanted - arrived.keys())} of {len(wanted)} messages did not arrive")
        await asyncio.sleep(0.02)


async def idle(store: Store, timeout: float = 60.0) -> None:
    """Poll with a deadline until the outbox holds nothing pending (every send recorded)."""
    deadline = time.perf_counter() + timeout
    while (await store.outbox_stats()).depth:
        if time.perf_counter() > deadline:
            raise TimeoutError("the outbox did not drain")
        await asyncio.sleep(0.02)


async def measure(backend: str, options: Options) -> list[Row]:
    """Both directions on one backend."""
    no_proxies()
    config = routing_config()
    router = make_router(config)
    directory = slack_directory(config)
    texts = routed_texts(router, config)
    channels = [d.home.chat for d in directory.departments]
    citizens = 4 * len(texts)  # four cases per routed department
    user = 7_000_000
    async with (
        database(backend, options) as db,
        TimedSlack(channels=channels) as slack,
        TimedTelegram() as telegram,
        bridged(db.store, directory=directory, router=router, slack=slack, telegram=telegram) as bridge,
    ):
        for c in range(citizens):
            telegram.push_message(user=user + c, text=f"{texts[c % len(texts)][1]} #{c}")
        await wait_for(slack.arrived, set(range(citizens)), timeout=120)
        await idle(db.store)

        async def threads(tx: Tx) -> list[Address]:
            found = []
            for c in range(citizens):
                case = await tx.active_case(Address(TELEGRAM, str(user + c)))
                assert case is not None
                assert case.thread is not None
                found.append(case.thread)
            return found

        thread_of = await db.store.read(threads)
        rows = []

        # Telegram → Slack: every routed channel gets SLACK_PER_CHANNEL messages a second.
        rate = SLACK_PER_CHANNEL * len(texts)
        count = int(rate * seconds(options))
        first = 1_000
        planned: dict[int, float] = {}
        start = time.perf_counter() + 0.05
        for i in range(count):
            at = start + i / rate
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            planned[first + i] = time.perf_counter()
            telegram.push_message(user=user + i % citizens, text=f"More about it #{first + i}")
        await wait_for(slack.arrived, set(planned), timeout=120)
        rows.append(_row("Telegram → Slack", backend, slack.arrived, planned, rate=rate, cases=citizens))

        # Slack → Telegram: staff answer in the threads, TELEGRAM_OVERALL a second in all.
        rate = TELEGRAM_OVERALL
        count = int(rate * seconds(options))
        first = 100_000
        planned = {}
        posts = []
        start = time.perf_counter() + 0.05
        for i in range(count):
            at = start + i / rate
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            thread = thread_of[i % citizens]
            assert thread.thread is not None  # a thread address
            event = slack.staff_message(thread.chat, f"We are on it #{first + i}", thread_ts=thread.thread)
            planned[first + i] = time.perf_counter()
            posts.append(asyncio.create_task(slack.deliver(bridge.events_url, event)))
        answers = await asyncio.gather(*posts)
        if any(status != 200 for status, _ in answers):  # noqa: PLR2004  # HTTP OK
            raise RuntimeError(f"the bridge refused events: {[a for a in answers if a[0] != 200][:3]}")  # noqa: PLR2004
        await wait_for(telegram.arrived, set(planned), timeout=120)
        rows.append(_row("Slack → Telegram", backend, telegram.arrived, planned, rate=rate, cases=citizens))
    return rows


def _row(
    direction: str, backend: str, arrived: dict[int, float], planned: dict[int, float], *, rate: float, cases: int
) -> Row:
    ms = [(arrived[tag] - at) * 1000 for tag, at in planned.items()]
    last = max(arrived[tag] for tag in planned)
    achieved = len(planned) / (last - min(planned.values()))
    figures = {"msgs_per_s": achieved, "offered_per_s": rate, **spread(ms)}
    return Row(
        f"{NAME}, {direction}",
        backend,
        f"{achieved:.1f} msg/s, p50 {figures['p50_ms']:.0f} / p99 {figures['p99_ms']:.0f} ms",
        figures,
        floor=f"{rate:.1f} msg/s offered",
        ratio=achieved / rate,
        notes=f"{len(planned)} msgs over {cases} cases; real python-telegram-bot polling and slack-sdk",
    )
