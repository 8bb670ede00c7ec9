"""Fixtures shared by every test: the storage backends and a bridge wired with fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.store import Store
from tests.backends import open_store
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage and relay test runs once per backend."""
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test moves by hand."""
    return FakeClock()


@pytest.fixture
async def store(backend: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated, empty store."""
    async with open_store(backend, tmp_path, clock=clock) as opened:
        yield opened


@pytest.fixture
async def bridge(store: Store, clock: FakeClock) -> AsyncIterator[Bridge]:
    """The real relay and delivery worker between a fake Telegram and a fake Slack."""
    async with build_bridge(store, clock) as built:
        yield built


#: Environment variables HTTP clients read a proxy from (slack-sdk ignores ``NO_PROXY``).
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy for this test's HTTP clients: loopback traffic to the emulators must not go to a proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
