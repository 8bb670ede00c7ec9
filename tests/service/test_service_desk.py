"""Service levels on the web desk: the saved-answers picker, the due time on the case page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.departments import Directory
from bot.model import DepartmentKey
from bot.storage.store import Store
from bot.storage.views import StoreViews
from tests.fakes import FakeClock
from tests.service.answers import ROUTING, answers
from tests.web.harness import DESK_DIRECTORY, Browser, Web, running_web

#: The desk tests' departments, with Roads promising a first answer within 8 hours.
SERVICE_DIRECTORY = Directory(
    departments=tuple(
        replace(d, first_response=timedelta(hours=8)) if d.key == "roads" else d for d in DESK_DIRECTORY.departments
    ),
    fallback=DESK_DIRECTORY.fallback,
)


@pytest.fixture
def backend() -> str:
    """The HTTP tests run on SQLite."""
    return "sqlite"


@pytest.fixture
async def web_bridge(store: Store, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Web]:
    """The web chat and desk with the shared saved answers."""
    async with running_web(store, clock, tmp_path, directory=SERVICE_DIRECTORY, answers=answers(ROUTING)) as running:
        yield running


async def _spanish_case(web_bridge: Web) -> tuple[Browser, str]:
    citizen = await web_bridge.browser()
    citizen.client.session.headers["Accept-Language"] = "es"
    await citizen.open_chat()
    await citizen.say("Hay un pothole en mi calle", name="Ana")
    await web_bridge.bridge.settle()
    return citizen, str((await citizen.history())["case"]["reference"])


async def test_desk_picker_sends_the_saved_answer_in_the_citizens_language(web_bridge: Web) -> None:
    """Choosing "Report received" on the case page sends the Spanish text, placeholders filled, to the chat."""
    citizen, reference = await _spanish_case(web_bridge)
    staff = await web_bridge.signed_in_staff()
    page = await staff.desk_page(f"/desk/case/{reference}")
    assert '<option value="received">Report received (received)</option>' in page
    assert 'value="bin-day"' not in page  # a Waste answer: not offered on a Roads case
    response = await staff.desk_post(reference, do="answer", answer="received")
    assert response.headers["Location"].endswith("?done=answer")
    await web_bridge.bridge.settle()
    assert (await citizen.texts())[-1] == f"Gracias, Ana. Roads & Transport tiene su aviso {reference}."


async def test_desk_picker_without_a_choice_asks_for_one(web_bridge: Web) -> None:
    """Sending the picker with no answer chosen sends nothing and says to choose one."""
    _citizen, reference = await _spanish_case(web_bridge)
    staff = await web_bridge.signed_in_staff()
    response = await staff.desk_post(reference, do="answer", answer="")
    assert response.headers["Location"].endswith("?error=no_answer")


async def test_case_page_shows_when_the_answer_is_due(web_bridge: Web, clock: FakeClock) -> None:
    """A Roads case opened at 09:00 UTC (round the clock, 8h target) is due at 17:00 UTC."""
    _citizen, reference = await _spanish_case(web_bridge)
    staff = await web_bridge.signed_in_staff()
    page = await staff.desk_page(f"/desk/case/{reference}")
    due = clock.now + timedelta(hours=8)
    assert f'<dt>Answer due by</dt><dd id="answer-due">{due:%Y-%m-%d %H:%M} UTC</dd>' in page


async def test_case_page_and_case_list_show_an_overdue_answer(web_bridge: Web, clock: FakeClock) -> None:
    """Past the due time the case is overdue: the page says so and the desk's read model flags it."""
    _citizen, reference = await _spanish_case(web_bridge)
    clock.advance(timedelta(hours=8).total_seconds())
    await web_bridge.bridge.relay.run_due_jobs()
    staff = await web_bridge.signed_in_staff()
    page = await staff.desk_page(f"/desk/case/{reference}")
    assert '<dt>Answer overdue</dt><dd id="answer-due" class="overdue">was due by' in page
    [summary] = await StoreViews(store=web_bridge.bridge.store).case_summaries((DepartmentKey("roads"),))
    assert summary.case.overdue
