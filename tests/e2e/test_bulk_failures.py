"""Broadcast sends to blocked bots and deleted accounts fail for good, through the real clients and the emulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.model import DISCORD, TELEGRAM, Address, DeliveryState
from bot.storage.store import Store, utc_now
from tests.backends import open_store
from tests.bridge import Bridge, build_bridge
from tests.bulk.helpers import all_deliveries, broadcast
from tests.e2e.test_discord import adapter_for
from tests.e2e.test_telegram import make_adapter
from tests.emulators import discord as discord_api
from tests.emulators import telegram as telegram_api
from tests.emulators.discord import DiscordEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.waiting import eventually

CHAT = 4242


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A SQLite store on the real clock."""
    async with open_store("sqlite", tmp_path, clock=utc_now) as store:
        yield store


@asynccontextmanager
async def on_telegram(store: Store, telegram: TelegramEmulator) -> AsyncIterator[Bridge]:
    """The bridge with the real Telegram adapter and a background worker."""
    adapter = make_adapter(telegram)
    async with build_bridge(store, utc_now, citizen=[adapter]) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="telegram polling")
        async with bridge.worker:
            yield bridge


async def settled_once(store: Store) -> tuple[DeliveryState, int, str]:
    """Wait until the one broadcast row is no longer pending; its state, tries and error."""

    async def finished() -> bool:
        return all(d.state is not DeliveryState.PENDING for d in await all_deliveries(store))

    await eventually(finished, what="the broadcast row to finish")
    [row] = await all_deliveries(store)
    return row.state, row.attempts, row.last_error or ""


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (telegram_api.BLOCKED, "blocked the bot"),
        (telegram_api.DEACTIVATED, "account was deleted"),
        (telegram_api.CHAT_NOT_FOUND, "no longer exists"),
    ],
)
async def test_telegram_refusal_fails_a_broadcast_send_after_one_try(
    sqlite_store: Store, telegram: TelegramEmulator, failure: telegram_api.Failure, reason: str
) -> None:
    """Telegram's 403 (blocked, deactivated) or 400 chat not found fails the broadcast send for good."""
    async with on_telegram(sqlite_store, telegram) as bridge:
        telegram.fail("sendMessage", failure)
        await broadcast(sqlite_store, [Address(TELEGRAM, str(CHAT))])
        bridge.worker.wake()
        state, attempts, error = await settled_once(sqlite_store)
    assert (state, attempts) == (DeliveryState.FAILED, 1)
    assert reason in error
    assert len(telegram.calls_to("sendMessage")) == 1


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (discord_api.cannot_message_user(), "50007"),
        (discord_api.unknown_user(), "10013"),
        (discord_api.unknown_channel(), "10003"),
    ],
)
async def test_discord_refusal_fails_a_broadcast_send_after_one_try(
    sqlite_store: Store, failure: discord_api.Failure, reason: str
) -> None:
    """Discord's 50007 (DMs closed), 10013 (unknown user) or 10003 (unknown channel) fails the send for good."""
    async with DiscordEmulator() as emulator:
        adapter = adapter_for(emulator)
        async with build_bridge(sqlite_store, utc_now, citizen=[adapter]) as bridge:
            await adapter.start_intake()
            await eventually(lambda: adapter.health() == "up", what="the Discord gateway")
            async with bridge.worker:
                emulator.failures.append(failure)
                await broadcast(sqlite_store, [Address(DISCORD, emulator.dm_channel(CHAT))])
                bridge.worker.wake()
                state, attempts, error = await settled_once(sqlite_store)
        assert (state, attempts) == (DeliveryState.FAILED, 1)
        assert reason in error
        assert emulator.send_attempts == 1


async def test_broadcast_send_that_arrives_is_recorded_sent(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A broadcast send to a reachable chat arrives once and its row is marked sent."""
    async with on_telegram(sqlite_store, telegram) as bridge:
        await broadcast(sqlite_store, [Address(TELEGRAM, str(CHAT))])
        bridge.worker.wake()
        state, attempts, _ = await settled_once(sqlite_store)
    assert (state, attempts) == (DeliveryState.SENT, 1)
    assert telegram.texts_to(CHAT) == ["Mill Lane is closed on Saturday. Reply STOP to stop these notices."]
