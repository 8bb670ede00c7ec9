"""Satisfaction after close end to end: buttons and typed numbers on the real Telegram and Discord clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from bot.departments import Directory
from bot.events import StaffActionKind
from bot.ratings import RatedCase
from bot.storage.store import Store
from bot.storage.views import StoreViews
from tests.backends import open_store
from tests.bridge import DIRECTORY, Bridge, build_bridge
from tests.e2e.test_discord import CITIZEN as DISCORD_CITIZEN
from tests.e2e.test_discord import adapter_for
from tests.e2e.test_telegram import CITIZEN as TELEGRAM_CITIZEN
from tests.e2e.test_telegram import make_adapter
from tests.emulators.discord import DiscordEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

#: The test bridge's departments, with roads asking for a rating when its staff close a case.
RATING_DIRECTORY = Directory(
    departments=tuple(replace(d, ask_rating=d.key == "roads") for d in DIRECTORY.departments),
    fallback=DIRECTORY.fallback,
)


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated SQLite store (the rating flow does not depend on the backend; the relay tests cover both)."""
    async with open_store("sqlite", tmp_path, clock=clock) as opened:
        yield opened


async def _close_first_case(bridge: Bridge) -> str:
    """Staff answer and close the case in its thread; returns its reference."""
    await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
    thread = bridge.slack.threads[0]
    await bridge.slack.reply(thread, "The pothole is filled.")
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    bridge.worker.wake()
    return thread.reference


async def _ratings(bridge: Bridge) -> list[RatedCase]:
    return await StoreViews(store=bridge.store).ratings()


@asynccontextmanager
async def telegram_bridge(store: Store, clock: FakeClock, telegram: TelegramEmulator) -> AsyncIterator[Bridge]:
    """The real Telegram adapter polling the emulator, roads asking for ratings."""
    adapter = make_adapter(telegram)
    async with build_bridge(store, clock, citizen=[adapter], directory=RATING_DIRECTORY) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="telegram polling")
        async with bridge.worker:
            yield bridge


@asynccontextmanager
async def discord_bridge(store: Store, clock: FakeClock, emulator: DiscordEmulator) -> AsyncIterator[Bridge]:
    """The real Discord adapter on the emulator's gateway, roads asking for ratings."""
    adapter = adapter_for(emulator)
    async with build_bridge(store, clock, citizen=[adapter], directory=RATING_DIRECTORY) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="the Discord gateway to be ready")
        async with bridge.worker:
            yield bridge


async def test_telegram_citizen_rates_with_an_inline_button(
    sqlite_store: Store, clock: FakeClock, telegram: TelegramEmulator
) -> None:
    """After close the citizen gets five inline buttons; pressing 5 records the rating and is answered."""
    async with telegram_bridge(sqlite_store, clock, telegram) as bridge:
        telegram.push_message(user=TELEGRAM_CITIZEN, text="pothole on Mill Lane")
        reference = await _close_first_case(bridge)
        await eventually(lambda: "How satisfied" in telegram.texts_to(TELEGRAM_CITIZEN)[-1], what="the question")
        markup = telegram.sent_to(TELEGRAM_CITIZEN)[-1].json("reply_markup")
        buttons = [row[0]["callback_data"] for row in markup["inline_keyboard"]]
        assert buttons == [f"rate:{reference}:{score}" for score in range(1, 6)]
        telegram.push_callback(user=TELEGRAM_CITIZEN, data=f"rate:{reference}:5")
        await eventually(lambda: "(5 out of 5)" in telegram.texts_to(TELEGRAM_CITIZEN)[-1], what="the thanks")
        assert [r.score for r in await _ratings(bridge)] == [5]


async def test_telegram_citizen_rates_by_typing_and_comments(
    sqlite_store: Store, clock: FakeClock, telegram: TelegramEmulator
) -> None:
    """A typed 2 rates the case; the next message is the comment, shown in the thread."""
    async with telegram_bridge(sqlite_store, clock, telegram) as bridge:
        telegram.push_message(user=TELEGRAM_CITIZEN, text="pothole on Mill Lane")
        await _close_first_case(bridge)
        await eventually(lambda: "How satisfied" in telegram.texts_to(TELEGRAM_CITIZEN)[-1], what="the question")
        telegram.push_message(user=TELEGRAM_CITIZEN, text="2")
        await eventually(lambda: "(2 out of 5)" in telegram.texts_to(TELEGRAM_CITIZEN)[-1], what="the thanks")
        telegram.push_message(user=TELEGRAM_CITIZEN, text="It took three weeks")
        comment = "The citizen's comment on the rating: It took three weeks"
        await eventually(lambda: bridge.slack.threads[0].posts[-1].text == comment, what="the comment in the thread")
        await eventually(lambda: "comment" in telegram.texts_to(TELEGRAM_CITIZEN)[-1], what="the comment thanks")
        assert len(bridge.slack.threads) == 1


async def test_discord_citizen_rates_with_a_button(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """After close the DM carries five buttons; pressing 4 records the rating and acknowledges the interaction."""
    async with discord_bridge(sqlite_store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(DISCORD_CITIZEN, "There is a pothole on my road")
        reference = await _close_first_case(bridge)
        await eventually(
            lambda: "How satisfied" in discord_emulator.sent_to(DISCORD_CITIZEN)[-1].content, what="the question"
        )
        question = discord_emulator.sent_to(DISCORD_CITIZEN)[-1]
        assert question.custom_ids == [f"menu:rate:{reference}:{score}" for score in range(1, 6)]
        await discord_emulator.press(question, f"menu:rate:{reference}:4", user_id=DISCORD_CITIZEN)
        await eventually(
            lambda: "(4 out of 5)" in discord_emulator.sent_to(DISCORD_CITIZEN)[-1].content, what="the thanks"
        )
        assert [r.score for r in await _ratings(bridge)] == [4]


async def test_discord_second_press_is_ignored_politely(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A second button press (or a typed number) after rating changes nothing and says so."""
    async with discord_bridge(sqlite_store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(DISCORD_CITIZEN, "There is a pothole on my road")
        reference = await _close_first_case(bridge)
        await eventually(
            lambda: "How satisfied" in discord_emulator.sent_to(DISCORD_CITIZEN)[-1].content, what="the question"
        )
        question = discord_emulator.sent_to(DISCORD_CITIZEN)[-1]
        await discord_emulator.press(question, f"menu:rate:{reference}:3", user_id=DISCORD_CITIZEN)
        await eventually(lambda: "(3 out of 5)" in discord_emulator.sent_to(DISCORD_CITIZEN)[-1].content, what="3")
        await discord_emulator.press(question, f"menu:rate:{reference}:1", user_id=DISCORD_CITIZEN)
        await eventually(
            lambda: "already rated" in discord_emulator.sent_to(DISCORD_CITIZEN)[-1].content, what="the refusal"
        )
        assert [r.score for r in await _ratings(bridge)] == [3]
