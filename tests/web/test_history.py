"""The web channels' own store queries (the chat's history, the desk's lists) on every storage backend."""

from __future__ import annotations

import pytest

from adapters.web.chat import session_of
from adapters.web.history import chat_state
from bot.model import DepartmentKey, Direction
from bot.storage.views import StoreViews
from tests.fakes import FakeClock
from tests.web.harness import Browser, Web


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """These tests run once per backend."""
    return str(request.param)


async def test_chat_history_interleaves_own_messages_and_replies(
    web_bridge: Web, citizen: Browser, staff: Browser, clock: FakeClock
) -> None:
    """The chat history holds the citizen's messages and what the bridge sent them, in time order, no notes."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = (await citizen.history())["case"]["reference"]
    clock.advance(1)
    await staff.desk_post(reference, do="note", text="Crew booked.")
    await staff.desk_post(reference, do="reply", text="Fixed on Monday.")
    await web_bridge.bridge.settle()
    clock.advance(1)
    await citizen.say("Thank you!")
    await web_bridge.bridge.settle()
    state = await chat_state(StoreViews(store=web_bridge.bridge.store), session_of(citizen.chat_cookie()))
    assert [(item.who, item.kind) for item in state.items] == [
        ("citizen", "citizen"),
        ("bridge", "ack"),
        ("staff", "staff"),
        ("citizen", "citizen"),
    ]


async def test_case_list_knows_who_spoke_last(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """The desk's list marks a case awaiting a reply until staff answer."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    views = StoreViews(store=web_bridge.bridge.store)
    [summary] = await views.case_summaries((DepartmentKey("roads"),))
    assert summary.awaiting_reply
    await staff.desk_post(summary.case.reference, do="reply", text="On it.")
    [summary] = await views.case_summaries((DepartmentKey("roads"),))
    assert (summary.awaiting_reply, summary.last_text) == (False, "On it.")


async def test_case_view_holds_every_message(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """The desk's case view has the citizen's message, the staff reply and the note."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = (await citizen.history())["case"]["reference"]
    await staff.desk_post(reference, do="reply", text="On it.")
    await staff.desk_post(reference, do="note", text="Crew booked.")
    view = await StoreViews(store=web_bridge.bridge.store).case_view(reference)
    assert view is not None
    assert [m.direction for m in view.messages] == [Direction.CITIZEN, Direction.STAFF, Direction.NOTE]
