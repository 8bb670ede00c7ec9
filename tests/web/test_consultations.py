"""The desk's Consultations pages over HTTP: create, list, close, results, CSV, live events and who may see what."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.consultations.live_results import ResultsPreparation
from bot.consultations.model import BroadcastKind
from bot.consultations.publishing import StaffConsultations
from bot.consultations.service import ConsultationService
from bot.desk_users import DeskRole
from bot.events import CitizenCommandKind
from bot.live import LocalLiveEvents
from bot.model import TELEGRAM, Address
from bot.privacy import audit_entries
from bot.storage.store import Store, Tx
from tests.consultations.helpers import subscribe
from tests.fakes import FakeClock
from tests.web.harness import DESK_DIRECTORY, Browser, Web, running_web
from tests.web.sse import connected, next_event

PASSWORD = "correct horse battery"  # noqa: S105  # a test user's password
CITIZENS = (111, 222, 333)


class Desk:
    """The running desk with consultations, and the service behind it."""

    def __init__(self, web: Web, service: ConsultationService) -> None:
        self.web = web
        self.service = service

    async def signed_in(self, username: str, departments: tuple[str, ...] | None, *, admin: bool = False) -> Browser:
        """A browser signed in with a password as a desk user of ``departments``."""
        role = DeskRole.ADMIN if admin else DeskRole.STAFF
        self.web.users.add(username, PASSWORD, departments, role=role)
        browser = await self.web.browser()
        html = await (await browser.client.get("/desk/login")).text()
        token = re.search(r'name="csrf" value="([^"]+)"', html)
        assert token is not None
        form = {"csrf": token.group(1), "next": "/desk", "username": username, "password": PASSWORD}
        response = await browser.client.post("/desk/login", data=form, allow_redirects=False)
        assert response.status == 303
        return browser

    async def ask(self, department: str = "waste", *, free_text: bool = False) -> int:
        """A consultation of ``department`` (as if from Slack or the CLI); its id."""
        options = () if free_text else ("Mill Lane", "High Street")
        created = await self.service.create_consultation(
            department=department, question="Which street first?", options=options, free_text=free_text, actor="cli"
        )
        await self.web.bridge.settle()
        return int(created.id)

    async def answer(self, user: int, choice: str) -> None:
        """A subscribed citizen presses an answer button."""
        await self.web.bridge.telegram.choose(user=user, choice=choice)
        await self.web.bridge.settle()


@pytest.fixture
async def desk(store: Store, clock: FakeClock, tmp_path: Path) -> AsyncIterator[Desk]:
    """The web desk with its Consultations pages; three citizens follow Waste and Roads."""
    for user in CITIZENS:
        for key in ("waste", "roads"):
            await subscribe(store, Address(TELEGRAM, str(user)), key)
    service = ConsultationService(store=store, directory=DESK_DIRECTORY)
    live = LocalLiveEvents()
    preparation = ResultsPreparation(store=store, results=service.results, live=live)
    async with running_web(
        store,
        clock,
        tmp_path,
        live=live,
        preparation=preparation,
        consultations=StaffConsultations(service=service, directory=DESK_DIRECTORY),
    ) as running:
        yield Desk(running, service)


def _csrf(html: str) -> str:
    found = re.search(r'action="/desk/consultations"[^>]*>.*?name="csrf" value="([^"]+)"', html, re.DOTALL)
    assert found is not None
    return found.group(1)


async def _create(browser: Browser, **fields: str) -> tuple[int, str]:
    html = await browser.desk_page("/desk/consultations")
    form = {"csrf": _csrf(html), "kind": "consultation", "department": "waste", **fields}
    response = await browser.client.post("/desk/consultations", data=form, allow_redirects=False)
    return response.status, response.headers.get("Location", "") or await response.text()


# --- creating ------------------------------------------------------------------------------


async def test_staff_create_a_consultation_for_their_department(desk: Desk) -> None:
    """The form sends a consultation for the user's department and opens its results page."""
    wendy = await desk.signed_in("wendy", ("waste",))
    status, location = await _create(wendy, text="Which street first?", options="Mill Lane\nHigh Street\n")
    [created] = await desk.service.list()
    assert (status, location) == (303, f"/desk/consultations/{created.id}")
    assert (created.department, created.options, created.created_by) == (
        "waste",
        ("Mill Lane", "High Street"),
        "desk:wendy",
    )
    assert created.recipients == len(CITIZENS)


async def test_staff_send_an_announcement_from_the_desk(desk: Desk) -> None:
    """An announcement goes out at once and the list says so."""
    wendy = await desk.signed_in("wendy", ("waste",))
    status, location = await _create(wendy, kind="announcement", text="Bins are collected on Tuesday.")
    assert (status, location) == (303, "/desk/consultations?done=announced")
    [created] = await desk.service.list()
    assert created.kind is BroadcastKind.ANNOUNCEMENT


async def test_the_form_offers_only_the_users_departments(desk: Desk) -> None:
    """A Waste user's form lists Waste only."""
    wendy = await desk.signed_in("wendy", ("waste",))
    html = await wendy.desk_page("/desk/consultations")
    assert re.findall(r'<option value="([a-z]+)"', html) == ["waste"]


async def test_creating_for_another_department_is_refused(desk: Desk) -> None:
    """A forged department in the form is refused and nothing is sent."""
    wendy = await desk.signed_in("wendy", ("waste",))
    status, _ = await _create(wendy, department="roads", text="Q?", options="A\nB")
    assert status == 403
    assert await desk.service.list() == []


async def test_a_form_without_its_csrf_token_is_refused(desk: Desk) -> None:
    """A cross-site post (no CSRF token) sends nothing."""
    wendy = await desk.signed_in("wendy", ("waste",))
    form = {"department": "waste", "kind": "consultation", "text": "Q?", "options": "A\nB"}
    response = await wendy.client.post("/desk/consultations", data=form, allow_redirects=False)
    assert response.status == 403
    assert await desk.service.list() == []


async def test_a_refused_consultation_says_why_on_the_form(desk: Desk) -> None:
    """One option is no choice: the page answers 400 with the reason, and nothing is sent."""
    wendy = await desk.signed_in("wendy", ("waste",))
    status, body = await _create(wendy, text="Q?", options="Only one")
    assert status == 400
    assert "at least two options" in body


# --- who sees what -------------------------------------------------------------------------


async def test_staff_list_only_their_departments_consultations(desk: Desk) -> None:
    """A Waste user's list shows Waste's consultation, not Roads'."""
    await desk.ask("roads")
    mine = await desk.ask("waste")
    wendy = await desk.signed_in("wendy", ("waste",))
    html = await wendy.desk_page("/desk/consultations")
    assert re.findall(r'href="/desk/consultations/(\d+)"', html) == [str(mine)]


async def test_admins_list_every_departments_consultations(desk: Desk) -> None:
    """An admin sees every department's consultations."""
    roads = await desk.ask("roads")
    waste = await desk.ask("waste")
    admin = await desk.signed_in("ada", ("waste",), admin=True)
    html = await admin.desk_page("/desk/consultations")
    assert re.findall(r'href="/desk/consultations/(\d+)"', html) == [str(waste), str(roads)]


async def test_forged_urls_of_another_departments_consultation_answer_404(desk: Desk) -> None:
    """The results page, its CSV and its close button of another department's consultation are not found."""
    roads = await desk.ask("roads")
    wendy = await desk.signed_in("wendy", ("waste",))
    own = await wendy.desk_page("/desk/consultations")
    for path in (f"/desk/consultations/{roads}", f"/desk/consultations/{roads}.csv"):
        assert (await wendy.client.get(path)).status == 404
    close = await wendy.client.post(f"/desk/consultations/{roads}/close", data={"csrf": _csrf(own)})
    assert close.status == 404
    assert (await desk.service.get(roads)).closed_at is None


# --- results -------------------------------------------------------------------------------


async def test_results_page_shows_the_counts_as_a_bar_chart(desk: Desk) -> None:
    """The results page draws one SVG bar per option, named with its count."""
    consultation = await desk.ask()
    await desk.answer(111, f"poll:{consultation}:1")
    await desk.answer(222, f"poll:{consultation}:1")
    await desk.answer(333, f"poll:{consultation}:2")
    wendy = await desk.signed_in("wendy", ("waste",))
    html = await wendy.desk_page(f"/desk/consultations/{consultation}")
    assert '<svg id="chart-results"' in html
    assert "<title>1. Mill Lane: 2</title>" in html
    assert "<title>2. High Street: 1</title>" in html
    assert "Answers: 3" in html


async def test_results_page_lists_free_text_answers_without_names(desk: Desk) -> None:
    """Free-text answers are listed as texts; who wrote them is not shown."""
    consultation = await desk.ask(free_text=True)
    await desk.web.bridge.telegram.command(user=111, command=CitizenCommandKind.ANSWER, argument="Fix the lights")
    await desk.web.bridge.settle()
    wendy = await desk.signed_in("wendy", ("waste",))
    html = await wendy.desk_page(f"/desk/consultations/{consultation}")
    assert "<li>Fix the lights</li>" in html
    assert "Ada Citizen" not in html


async def test_close_button_stops_the_consultation(desk: Desk) -> None:
    """Close now closes it (later answers are refused) and the page says closed."""
    consultation = await desk.ask()
    wendy = await desk.signed_in("wendy", ("waste",))
    html = await wendy.desk_page(f"/desk/consultations/{consultation}")
    token = re.search(r'/close" class="inline"><input type="hidden" name="csrf" value="([^"]+)"', html)
    assert token is not None
    response = await wendy.client.post(
        f"/desk/consultations/{consultation}/close", data={"csrf": token.group(1)}, allow_redirects=False
    )
    assert response.status == 303
    assert (await desk.service.get(consultation)).closed_at is not None
    assert "Close now" not in await wendy.desk_page(f"/desk/consultations/{consultation}")


async def test_csv_export_has_a_row_per_option_and_free_text(desk: Desk) -> None:
    """``/desk/consultations/ID.csv`` downloads the counts per option."""
    consultation = await desk.ask()
    await desk.answer(111, f"poll:{consultation}:2")
    wendy = await desk.signed_in("wendy", ("waste",))
    response = await wendy.client.get(f"/desk/consultations/{consultation}.csv")
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert f'filename="consultation-{consultation}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["label"], r["count"]) for r in rows] == [("Mill Lane", "0"), ("High Street", "1")]


async def test_an_answer_tells_open_results_pages_to_refresh(desk: Desk) -> None:
    """The results page's live stream hears an event naming the consultation when a citizen answers."""
    consultation = await desk.ask()
    wendy = await desk.signed_in("wendy", ("waste",))
    async with wendy.client.get("/desk/consultations/events") as stream:
        await connected(stream)
        await desk.answer(111, f"poll:{consultation}:1")
        event = await next_event(stream)
    assert event["reference"] == f"consultation-{consultation}"


async def test_case_list_links_to_the_consultations(desk: Desk) -> None:
    """The desk's case list links to the Consultations page."""
    wendy = await desk.signed_in("wendy", ("waste",))
    assert 'href="/desk/consultations"' in await wendy.desk_page("/desk")


async def test_creating_and_downloading_are_in_the_audit_trail(desk: Desk) -> None:
    """Who sent a consultation from the desk, and who downloaded its answers, is audited (never the text)."""
    wendy = await desk.signed_in("wendy", ("waste",))
    await _create(wendy, text="Which street first?", options="Mill Lane\nHigh Street")
    [created] = await desk.service.list()
    await wendy.client.get(f"/desk/consultations/{created.id}.csv")

    async def read(tx: Tx) -> list[tuple[str, str, str | None]]:
        return [(a.actor, a.action, a.reference) for a in await audit_entries(tx)]

    entries = await desk.web.bridge.store.read(read)
    assert ("desk:wendy", "consult_create", None) in entries
    assert ("wendy", "consult_download", f"consultation-{created.id}") in entries
