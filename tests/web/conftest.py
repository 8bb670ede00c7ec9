"""Fixtures for the web chat and desk tests: the bridge behind a test server, and browsers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.store import Store
from tests.fakes import FakeClock
from tests.web.harness import Browser, Web, running_web


@pytest.fixture
def backend() -> str:
    """The HTTP tests run on SQLite; test_history.py runs the web's own queries on every backend."""
    return "sqlite"


@pytest.fixture
async def web_bridge(store: Store, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Web]:
    """The relay and worker with the real web adapters, served on 127.0.0.1 (no desk users yet)."""
    async with running_web(store, clock, tmp_path) as running:
        yield running


@pytest.fixture
async def citizen(web_bridge: Web) -> Browser:
    """A citizen's browser with the chat page open."""
    browser = await web_bridge.browser()
    await browser.open_chat()
    return browser


@pytest.fixture
async def staff(web_bridge: Web) -> Browser:
    """A member of staff's browser, signed in with the one-time link (the desk has no users)."""
    return await web_bridge.signed_in_staff()
