"""The web chat: bad text is cleaned, and a message that keeps failing is set aside while other citizens go on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.model import WEB
from bot.storage.store import Store
from tests.bridge import KEYWORDS
from tests.e2e.poisoned import CLEAN_TEXT, DIRTY_TEXT, POISON, BrokenRouter, set_aside_events
from tests.fakes import FakeClock
from tests.web.harness import Web, running_web


@pytest.fixture
async def broken_web(store: Store, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Web]:
    """The web chat in front of a relay whose router has a bug on one word."""
    async with running_web(store, clock, tmp_path, router=BrokenRouter(KEYWORDS, "general")) as running:
        yield running


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_nul_byte_and_a_lone_surrogate_are_cleaned_stored_and_relayed(web_bridge: Web) -> None:
    """A web message whose text and name hold a NUL byte and a lone surrogate is taken (200) and shown cleaned."""
    citizen = await web_bridge.browser()
    await citizen.open_chat()
    response = await citizen.say(DIRTY_TEXT, name="A\x00da \ud800")
    assert response.status == 200
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert (data["items"][0]["text"], data["name"], data["case"]["status"]) == (CLEAN_TEXT, "Ada \ufffd", "open")


async def test_a_message_that_keeps_failing_is_set_aside_and_other_citizens_go_on(broken_web: Web) -> None:
    """A message the relay fails on is kept aside (the citizen gets 200, not 500); other citizens' messages go in."""
    poisoner = await broken_web.browser()
    await poisoner.open_chat()
    response = await poisoner.say(f"{POISON} pill")
    assert response.status == 200
    others = [await broken_web.browser() for _ in range(3)]
    for other in others:
        await other.open_chat()
        assert (await other.say("pothole on Mill Lane")).status == 200
    await broken_web.bridge.settle()
    assert [(await b.history())["case"] is not None for b in others] == [True, True, True]
    [aside] = await set_aside_events(broken_web.bridge.store)
    assert (aside.platform, aside.kind, aside.tries, aside.error) == (WEB, "CitizenMessage", 3, "ValueError")
