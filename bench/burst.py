"""Measurement 4: a burst of citizen messages drained to Slack under a per-channel rate limit.

The Slack emulator lets about ``rate`` messages a second into each channel (a
token bucket with short bursts) and answers 429 with Retry-After beyond that.
The floor is the time the limit itself imposes: the busiest channel's posts
beyond the burst allowance, at ``rate`` a second.
"""

from __future__ import annotations

import asyncio
import string
import time
from collections import Counter
from dataclasses import dataclass

from bench.common import Options, Row, database, make_router
from bench.fakes import TimedPlatform
from bench.platforms import TimedSlack, bridged, no_proxies
from bot.events import CitizenMessage, Sender
from bot.model import TELEGRAM, Address, CitizenReply
from config.routing_file import RoutingConfig, load_routing_text

NAME = "4 burst drain under rate limits"
PRODUCERS = 8


@dataclass(frozen=True, slots=True)
class Size:
    """How big the burst is and how fast the emulated Slack lets it through."""

    messages: int
    channels: int
    cases_per_channel: int
    rate: float
    burst: int


def size(options: Options) -> Size:
    """3,000 messages over 50 channels at Slack's 1/s; --quick: 60 over 3 channels at 10/s."""
    return Size(60, 3, 2, 10.0, 3) if options.quick else Size(3_000, 50, 5, 1.0, 3)


def keyword(n: int) -> str:
    """A made-up word that routes to department ``n`` (short: no typo matching between them)."""
    letters = string.ascii_lowercase
    return f"q{letters[n // 26]}{letters[n % 26]}z"


def routing(channels: int) -> RoutingConfig:
    """A routing file with one department (and Slack channel) per keyword, plus the fallback."""
    lines = ["fallback: general", "departments:"]
    for n in range(channels - 1):
        lines += [f"  - key: d{n:03d}", f"    name: Department {n}", f"    slack_channel: C0BURST{n:03d}",
                  f"    keywords: [{keyword(n)}]"]  # fmt: skip
    lines += ["  - key: general", "    name: General", "    slack_channel: C0BURSTGEN"]
    return load_routing_text("\n".join(lines) + "\n", "burst-routing.yaml")


async def measure(backend: str, options: Options) -> list[Row]:
    """Send the burst, time the drain, count 429s and check every message arrived exactly once."""
    no_proxies()
    s = size(options)
    config = routing(s.channels)
    router = make_router(config)
    from bot.live_routing import directory_from  # noqa: PLC0415  # app wiring is only needed here

    directory = directory_from(config)
    cases = s.channels * s.cases_per_channel
    citizens = TimedPlatform[CitizenReply](TELEGRAM)
    events = []
    for n in range(s.messages):
        citizen = n % cases
        department = citizen % s.channels
        words = f"About {keyword(department)}" if department < s.channels - 1 else "A general question"
        text = f"{words} #{n}" if n < cases else f"More detail #{n}"
        sender = Sender(TELEGRAM, str(citizen), f"Citizen {citizen}", "en")
        events.append(CitizenMessage(f"burst-{n}", sender, Address(TELEGRAM, str(citizen)), text))
    per_channel = Counter(n % cases % s.channels for n in range(s.messages))
    floor = max(max(0, count - s.burst) / s.rate for count in per_channel.values())
    channels = [d.home.chat for d in directory.departments]
    async with (
        database(backend, options) as db,
        TimedSlack(channels=channels, rate=s.rate, burst=s.burst) as slack,
        bridged(db.store, directory=directory, router=router, slack=slack, telegram=None, extra=[citizens]) as bridge,
    ):

        async def produce(share: list[CitizenMessage]) -> None:
            for event in share:
                await bridge.relay.accept(event)

        started = time.perf_counter()
        await asyncio.gather(*(produce(events[p::PRODUCERS]) for p in range(PRODUCERS)))
        accepted = time.perf_counter() - started
        deadline = started + max(120.0, floor * 4)
        while len(slack.received) < s.messages and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        drained = max(slack.arrived.values()) - started if slack.arrived else float("nan")
        missing = s.messages - len(slack.received)
        duplicates = sum(count - 1 for count in slack.received.values())
        rejected = slack.rejected
    verdict = "nothing lost, each exactly once" if not missing and not duplicates else (
        f"{missing} missing, {duplicates} duplicates")  # fmt: skip
    return [
        Row(
            NAME,
            backend,
            f"{drained:.1f} s, {rejected:,} × 429",
            {
                "drain_s": drained,
                "floor_s": floor,
                "accept_s": accepted,
                "rejected_429": rejected,
                "missing": missing,
                "duplicates": duplicates,
            },
            floor=f"{floor:.1f} s",
            ratio=drained / floor,
            notes=(
                f"{s.messages:,} msgs over {s.channels} channels × {s.cases_per_channel} cases, "
                f"{s.rate:g} msg/s per channel, bursts of {s.burst}; {verdict}"
            ),
        )
    ]
