"""Discord's rate limits in the emulator, as the real discord.py client meets them through the adapter."""

from __future__ import annotations

import asyncio
import importlib
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.discord import DiscordAdapter
from adapters.pacing import SendPace
from bot.model import DISCORD, Address, CitizenReply, Outgoing, ReplyKind
from tests.e2e.test_discord import adapter_for
from tests.emulators.discord import BOT_TOKEN, DiscordEmulator
from tests.waiting import eventually

CHANNEL = "5100000000000000001"
#: discord.py's HTTP client (imported by name: ``adapters.discord`` must import discord.py first, see there).
HTTP_CLIENT = importlib.import_module("discord.http").HTTPClient


class _NoEvents:
    """A sink for tests that only send."""

    async def accept(self, event: object) -> None:
        raise AssertionError(f"no event expected, got {event!r}")


@pytest.fixture
async def adapter(discord_emulator: DiscordEmulator) -> AsyncIterator[DiscordAdapter]:
    """The real adapter, logged in (before any limit is set, so the login is not what meets it)."""
    started = adapter_for(discord_emulator)
    await started.start(_NoEvents())
    try:
        await eventually(lambda: started.health() == "up", what="the login")
        yield started
    finally:
        await started.stop()


def _paced_adapter(emulator: DiscordEmulator, pace: SendPace) -> DiscordAdapter:
    return DiscordAdapter(
        token=BOT_TOKEN, api_url=emulator.api_url, gateway_url=emulator.gateway_url, max_file_bytes=1024, pace=pace
    )


def _notice(channel: str, n: int) -> Outgoing[CitizenReply]:
    body = CitizenReply(ReplyKind.SYSTEM, f"Notice {n}", "")
    return Outgoing(target=Address(DISCORD, channel), body=body, idempotency_key=f"bulk-{channel}-{n}")


def _delivered(emulator: DiscordEmulator) -> Counter[tuple[str, str]]:
    return Counter((message.channel_id, message.content) for message in emulator.sent)


async def test_a_burst_into_one_channel_waits_for_the_bucket_without_a_429(
    discord_emulator: DiscordEmulator, adapter: DiscordAdapter
) -> None:
    """Twelve messages at once into one DM (5 per window allowed) all arrive once: discord.py paced by the headers."""
    discord_emulator.limit(per_second=None, per_channel=5, window=0.2)
    await asyncio.gather(*(adapter.send(_notice(CHANNEL, n)) for n in range(12)))
    assert _delivered(discord_emulator) == Counter({(CHANNEL, f"Notice {n}"): 1 for n in range(12)})
    assert discord_emulator.rejected == 0


async def test_over_the_global_limit_discord_py_waits_out_the_429_and_delivers_once(
    discord_emulator: DiscordEmulator, adapter: DiscordAdapter
) -> None:
    """Sends faster than the global budget are answered 429 (global); discord.py waits and each arrives once."""
    discord_emulator.limit(per_second=4, burst=1, per_channel=None)
    channels = [str(int(CHANNEL) + n) for n in range(3)]
    for n, channel in enumerate(channels):
        await adapter.send(_notice(channel, n))
    assert _delivered(discord_emulator) == Counter({(channel, f"Notice {n}"): 1 for n, channel in enumerate(channels)})
    assert discord_emulator.rejected == 2  # the second and third came within 250 ms of the one before


async def test_a_burst_is_paced_under_the_global_limit_without_a_429(discord_emulator: DiscordEmulator) -> None:
    """Ten sends at once to ten DMs, paced at the global limit (20/s), all arrive once and Discord refuses none."""
    paced = _paced_adapter(discord_emulator, SendPace(per_chat_interval=0.0, overall_rate=20.0))
    await paced.start(_NoEvents())
    try:
        await eventually(lambda: paced.health() == "up", what="the login")
        discord_emulator.limit(per_second=20, burst=5, per_channel=None)
        channels = [str(int(CHANNEL) + n) for n in range(10)]
        await asyncio.gather(*(paced.send(_notice(channel, 0)) for channel in channels))
    finally:
        await paced.stop()
    assert _delivered(discord_emulator) == Counter({(channel, "Notice 0"): 1 for channel in channels})
    assert discord_emulator.rejected == 0


async def test_a_broadcast_does_not_make_discord_py_look_through_every_channel_per_send(
    discord_emulator: DiscordEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sending to 600 DM channels looks for idle rate-limit buckets a few times, not once per new channel."""
    looks = []
    look = HTTP_CLIENT._try_clear_expired_ratelimits
    monkeypatch.setattr(HTTP_CLIENT, "_try_clear_expired_ratelimits", lambda http: looks.append(look(http)))
    sender = _paced_adapter(discord_emulator, SendPace(per_chat_interval=0.0, overall_rate=10_000.0))
    await sender.start(_NoEvents())
    try:
        await eventually(lambda: sender.health() == "up", what="the login")
        for n in range(600):
            await sender.send(_notice(str(int(CHANNEL) + n), n))
    finally:
        await sender.stop()
    assert len(discord_emulator.sent) == 600
    assert len(looks) <= 12  # discord.py alone looks once per new channel: 600 times, over up to 600 buckets


async def test_over_a_channel_bucket_the_answer_is_discords_429(discord_emulator: DiscordEmulator) -> None:
    """Beyond 5 messages into one channel, a 429 with the bucket's headers, ``retry_after`` and ``global`` false."""
    discord_emulator.limit(per_second=None)
    url = f"{discord_emulator.api_url}/channels/{CHANNEL}/messages"
    headers = {"Authorization": f"Bot {BOT_TOKEN}"}
    answers = []
    async with aiohttp.ClientSession(headers=headers) as session:
        for n in range(6):
            async with session.post(url, json={"content": f"Notice {n}"}) as response:
                answers.append((response.status, response.headers.copy(), await response.json()))
    assert [(status, sent["X-RateLimit-Remaining"]) for status, sent, _ in answers] == [
        (200, "4"), (200, "3"), (200, "2"), (200, "1"), (200, "0"), (429, "0")
    ]  # fmt: skip
    _, limited, body = answers[-1]
    assert body["global"] is False
    assert 0 < body["retry_after"] <= 5.0
    assert limited["X-RateLimit-Bucket"] == answers[0][1]["X-RateLimit-Bucket"]
    assert "Via" in limited  # discord.py takes a 429 without it for a Cloudflare ban
    assert len(discord_emulator.sent) == 5
    assert discord_emulator.rejected == 1
