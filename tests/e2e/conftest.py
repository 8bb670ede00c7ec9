"""Fixtures the Telegram end-to-end modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.store import Store, utc_now
from tests.backends import open_store
from tests.emulators.discord import DiscordEmulator
from tests.emulators.telegram import TelegramEmulator


@pytest.fixture
async def discord_emulator() -> AsyncIterator[DiscordEmulator]:
    """The Discord emulator (REST and gateway) on a free loopback port."""
    async with DiscordEmulator() as emulator:
        yield emulator


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramEmulator]:
    """The Bot API emulator on a free loopback port."""
    async with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A SQLite store on the real clock (retries after 429 fall due in real time); modules may override it."""
    async with open_store("sqlite", tmp_path, clock=utc_now) as store:
        yield store
