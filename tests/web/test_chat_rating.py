"""The web chat's rating after close: live buttons while the question is open, a typed number, the desk shows it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.departments import Directory
from bot.storage.store import Store
from bot.storage.views import StoreViews
from tests.fakes import FakeClock
from tests.web.harness import DESK_DIRECTORY, Browser, Web, running_web

#: The desk's departments, with roads asking for a rating when its staff close a case.
RATING_DIRECTORY = Directory(
    departments=tuple(replace(d, ask_rating=d.key == "roads") for d in DESK_DIRECTORY.departments),
    fallback=DESK_DIRECTORY.fallback,
)


@pytest.fixture
async def web_bridge(store: Store, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Web]:
    """The web chat and desk, roads asking for ratings."""
    async with running_web(store, clock, tmp_path, directory=RATING_DIRECTORY) as running:
        yield running


async def _closed(web_bridge: Web, citizen: Browser, staff: Browser) -> str:
    """The citizen's case, answered and closed on the desk; returns its reference."""
    await citizen.say("There is a pothole on my street")
    await web_bridge.bridge.settle()
    reference = str((await citizen.history())["case"]["reference"])
    await staff.desk_post(reference, do="reply", text="Filled today.")
    await staff.desk_post(reference, do="close")
    await web_bridge.bridge.settle()
    return reference


async def test_closed_case_offers_live_rating_buttons(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """After close the chat shows the question with buttons 1-5, and they are the open menu."""
    reference = await _closed(web_bridge, citizen, staff)
    data = await citizen.history()
    question = data["items"][-1]
    assert question["kind"] == "menu"
    assert [o["label"] for o in question["options"]] == ["1", "2", "3", "4", "5"]
    assert question["options"][0]["key"] == f"rate:{reference}:1"
    assert data["open_menu"] == question["id"]


async def test_pressing_a_rating_button_rates_and_closes_the_menu(
    web_bridge: Web, citizen: Browser, staff: Browser
) -> None:
    """Choosing 5 records the rating; the buttons are no longer live and the desk shows the score."""
    reference = await _closed(web_bridge, citizen, staff)
    await citizen.post_chat("/chat/choose", {"event_id": str(uuid.uuid4()), "choice": f"rate:{reference}:5"})
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert data["open_menu"] is None
    assert "(5 out of 5)" in data["items"][-1]["text"]
    assert [r.score for r in await StoreViews(store=web_bridge.bridge.store).ratings()] == [5]
    page = await staff.desk_page(f"/desk/case/{reference}")
    assert '<dd id="rating">5 out of 5</dd>' in page


async def test_a_typed_number_rates_in_the_web_chat(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Typing 3 while the question is open rates the case instead of opening a new one."""
    reference = await _closed(web_bridge, citizen, staff)
    await citizen.say("3")
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert data["case"]["reference"] == reference
    assert [r.score for r in await StoreViews(store=web_bridge.bridge.store).ratings()] == [3]
