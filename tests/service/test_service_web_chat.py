"""The web chat's office status: "Open now" or when the office opens, in the citizen's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.departments import Directory
from bot.office_hours import OfficeHours, parse_week
from bot.storage.store import Store
from tests.fakes import FakeClock
from tests.web.harness import DESK_DIRECTORY, Web, running_web

#: Citizen Services (the fallback) opens Mon-Fri 10:00-17:00 UTC; the fake clock starts Monday 09:00 UTC.
HOURS = OfficeHours(zone=ZoneInfo("UTC"), week=parse_week({"mon-fri": "10:00-17:00"}))
DIRECTORY = Directory(
    departments=tuple(replace(d, hours=HOURS) if d.key == "general" else d for d in DESK_DIRECTORY.departments),
    fallback=DESK_DIRECTORY.fallback,
)


@pytest.fixture
def backend() -> str:
    """The HTTP tests run on SQLite."""
    return "sqlite"


@pytest.fixture
async def web_bridge(store: Store, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Web]:
    """The web chat with office hours on the fallback department."""
    async with running_web(store, clock, tmp_path, directory=DIRECTORY) as running:
        yield running


async def test_chat_says_when_the_office_opens_then_that_it_is_open(web_bridge: Web, clock: FakeClock) -> None:
    """Before opening the chat says "Opens Monday 10:00 AM"; an hour later, "Open now"."""
    browser = await web_bridge.browser()
    await browser.open_chat()
    assert (await browser.history())["office"] == "Opens Monday 10:00\u202fAM"
    clock.advance(3600)
    assert (await browser.history())["office"] == "Open now"


async def test_office_status_in_the_citizens_language(web_bridge: Web) -> None:
    """A Spanish browser reads the office status in Spanish."""
    browser = await web_bridge.browser()
    browser.client.session.headers["Accept-Language"] = "es"
    await browser.open_chat()
    assert (await browser.history())["office"] == "Abre: lunes 10:00"


async def test_no_status_for_an_office_open_round_the_clock(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Without office hours the chat shows no office status at all."""
    async with running_web(store, clock, tmp_path) as running:
        browser = await running.browser()
        await browser.open_chat()
        assert (await browser.history())["office"] is None
