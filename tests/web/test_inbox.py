"""The desk inbox over HTTP on every backend: views and counts, department filter, search, roles, earlier cases."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.departments import Directory
from bot.desk_users import DeskRole
from bot.model import DepartmentKey
from bot.storage.store import Store
from tests.fakes import FakeClock
from tests.web.harness import DESK_DIRECTORY, Browser, Web, running_web


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The inbox's queries (LIKE escaping, counts) run once per backend."""
    return str(request.param)


def rows(html: str) -> list[str]:
    """The references the inbox lists, in order."""
    return re.findall(r'<tr data-reference="([^"]+)"', html)


def count(html: str, view: str) -> int:
    """The count shown beside a view's name."""
    found = re.search(rf'data-view="{view}"[^>]*>[^<]*<span class="count">(\d+)</span>', html)
    assert found is not None, f"no {view} view on the page"
    return int(found.group(1))


async def open_case(web: Web, text: str, *, name: str = "") -> tuple[Browser, str]:
    """A new citizen writes ``text`` in the web chat; their browser and the case's reference."""
    citizen = await web.browser()
    await citizen.open_chat()
    await citizen.say(text, name=name)
    await web.bridge.settle()
    return citizen, str((await citizen.history())["case"]["reference"])


async def test_mine_lists_only_the_cases_i_claimed(web_bridge: Web, staff: Browser) -> None:
    """The "Mine" view holds the open cases the signed-in officer claimed, and counts them."""
    _, claimed = await open_case(web_bridge, "There is a pothole on Mill Lane")
    _, other = await open_case(web_bridge, "Another pothole on Station Road")
    await staff.desk_post(claimed, do="claim")
    await web_bridge.bridge.settle()
    html = await staff.desk_page("/desk?view=mine")
    assert rows(html) == [claimed]
    assert (count(html, "mine"), count(html, "open")) == (1, 2)
    assert other in await staff.desk_page("/desk?view=open")


async def test_unassigned_lists_open_cases_nobody_claimed(web_bridge: Web, staff: Browser) -> None:
    """The "Unassigned" view holds open cases nobody handles yet; claiming one takes it out."""
    _, claimed = await open_case(web_bridge, "There is a pothole on Mill Lane")
    _, free = await open_case(web_bridge, "My bin was not collected")
    await staff.desk_post(claimed, do="claim")
    await web_bridge.bridge.settle()
    html = await staff.desk_page("/desk?view=unassigned")
    assert rows(html) == [free]
    assert count(html, "unassigned") == 1


async def test_department_filter_shows_one_department_and_counts_each(web_bridge: Web, staff: Browser) -> None:
    """Choosing a department lists only its cases; the filter counts every department's open cases."""
    _, roads = await open_case(web_bridge, "There is a pothole on Mill Lane")
    _, waste = await open_case(web_bridge, "My bin was not collected")
    html = await staff.desk_page("/desk?view=open&department=waste")
    assert rows(html) == [waste]
    assert roads not in html
    assert re.search(r'data-department="roads"[^>]*>Roads &amp; Transport <span class="count">1</span>', html)
    assert re.search(r'data-department="waste" aria-current="true">', html)


async def test_overdue_view_appears_only_with_answer_targets(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Without answer-time targets the inbox offers no "Overdue" view, and asking for it shows the open cases."""
    async with running_web(store, clock, tmp_path) as web:
        staff = await web.signed_in_staff()
        _, reference = await open_case(web, "There is a pothole on Mill Lane")
        html = await staff.desk_page("/desk?view=overdue")
        assert 'data-view="overdue"' not in html
        assert rows(html) == [reference]


def _with_targets() -> Directory:
    roads, *others = DESK_DIRECTORY.departments
    return Directory(
        departments=(replace(roads, first_response=timedelta(hours=1)), *others), fallback=DESK_DIRECTORY.fallback
    )


async def test_overdue_lists_unanswered_cases_past_their_answer_time(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """A case unanswered past its answer time is overdue; a staff reply takes it out of the view."""
    async with running_web(store, clock, tmp_path, directory=_with_targets()) as web:
        staff = await web.signed_in_staff()
        _, late = await open_case(web, "There is a pothole on Mill Lane")
        assert count(await staff.desk_page("/desk"), "overdue") == 0
        clock.advance(2 * 3600)
        _, fresh = await open_case(web, "Another pothole on Station Road")
        html = await staff.desk_page("/desk?view=overdue")
        assert rows(html) == [late]
        assert fresh not in html
        assert 'class="status overdue">Overdue' in await staff.desk_page("/desk")
        await staff.desk_post(late, do="reply", text="A crew is on the way.")
        html = await staff.desk_page("/desk?view=overdue")
        assert (rows(html), count(html, "overdue")) == ([], 0)


async def test_search_finds_a_case_by_reference(web_bridge: Web, staff: Browser) -> None:
    """Part of a reference, in any case, finds that case only."""
    _, wanted = await open_case(web_bridge, "There is a pothole on Mill Lane")
    await open_case(web_bridge, "Another pothole on Station Road")
    assert rows(await staff.desk_page(f"/desk?q={wanted[3:].lower()}")) == [wanted]


async def test_search_finds_words_of_any_message(web_bridge: Web, staff: Browser) -> None:
    """Words from the citizen's or staff's messages find the case, whatever their case."""
    _, wanted = await open_case(web_bridge, "There is a pothole on Mill Lane")
    _, other = await open_case(web_bridge, "My bin was not collected")
    await staff.desk_post(other, do="reply", text="The crew missed Elm Street.")
    assert rows(await staff.desk_page("/desk?q=MILL+lane")) == [wanted]
    assert rows(await staff.desk_page("/desk?q=elm+street")) == [other]


async def test_search_treats_like_wildcards_as_plain_characters(web_bridge: Web, staff: Browser) -> None:
    """A search for ``50%`` or ``a_b`` finds those characters, not any text the wildcards would match."""
    _, percent = await open_case(web_bridge, "The road sign says 50% off, pothole")
    await open_case(web_bridge, "A pothole 500 metres on, about a big hole")
    assert rows(await staff.desk_page("/desk?q=50%25")) == [percent]
    assert rows(await staff.desk_page("/desk?q=a_b")) == []


async def test_search_finds_a_citizen_by_name_and_platform_id(web_bridge: Web, staff: Browser) -> None:
    """The citizen's display name, or ``platform:id``, finds their cases."""
    _, wanted = await open_case(web_bridge, "There is a pothole on Mill Lane", name="Ada Lovelace")
    await open_case(web_bridge, "Another pothole on Station Road", name="Tom")
    assert rows(await staff.desk_page("/desk?q=lovelace")) == [wanted]
    case = await web_bridge.bridge.store.read(lambda tx: tx.case_by_reference(wanted))
    assert case is not None
    assert rows(await staff.desk_page(f"/desk?q=web:{case.chat.chat}")) == [wanted]


async def test_case_page_lists_the_citizens_other_cases(web_bridge: Web, staff: Browser) -> None:
    """The case page lists the same citizen's earlier cases, linked, and no one else's."""
    citizen, first = await open_case(web_bridge, "There is a pothole on Mill Lane")
    await staff.desk_post(first, do="close")
    await web_bridge.bridge.settle()
    _, stranger = await open_case(web_bridge, "Another pothole on Station Road")
    await citizen.say("The pothole is back on Mill Lane")
    await web_bridge.bridge.settle()
    second = str((await citizen.history())["case"]["reference"])
    assert second != first
    html = await staff.desk_page(f"/desk/case/{second}")
    aside = html[html.index('id="earlier-cases"') :]
    assert f'href="/desk/case/{first}"' in aside
    assert stranger not in aside


async def test_staff_see_only_their_departments_cases(web_bridge: Web) -> None:
    """Staff of roads see roads' cases in every view and search, and never waste's."""
    _, roads = await open_case(web_bridge, "There is a pothole on Mill Lane")
    _, waste = await open_case(web_bridge, "My bin was not collected")
    grace = await web_bridge.signed_in_user("grace", ("roads",))
    for path in ("/desk", "/desk?view=unassigned", "/desk?view=closed", "/desk?q=bin", "/desk?department=waste"):
        assert waste not in await grace.desk_page(path), path
    assert rows(await grace.desk_page("/desk")) == [roads]


async def test_staff_get_404_for_another_departments_case_page(web_bridge: Web) -> None:
    """A forged URL to another department's case answers 404, as if the case did not exist."""
    _, waste = await open_case(web_bridge, "My bin was not collected")
    grace = await web_bridge.signed_in_user("grace", ("roads",))
    response = await grace.client.get(f"/desk/case/{waste}")
    assert response.status == 404
    assert "My bin" not in await response.text()


async def test_staff_cannot_act_on_another_departments_case(web_bridge: Web) -> None:
    """A forged form posted to another department's case answers 404 and changes nothing."""
    _, roads = await open_case(web_bridge, "There is a pothole on Mill Lane")
    _, waste = await open_case(web_bridge, "My bin was not collected")
    grace = await web_bridge.signed_in_user("grace", ("roads",))
    html = await grace.desk_page(f"/desk/case/{roads}")  # a real form of hers, pointed at the other case
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    event = re.search(r'name="event_id" value="([^"]+)"', html)
    assert csrf is not None
    assert event is not None
    for fields in ({"do": "reply", "text": "Forged"}, {"do": "close"}, {"do": "claim"}):
        form = {"csrf": csrf.group(1), "event_id": event.group(1), **fields}
        response = await grace.client.post(f"/desk/case/{waste}", data=form, allow_redirects=False)
        assert response.status == 404
    await web_bridge.bridge.settle()
    ada = await web_bridge.signed_in_user("ada", role=DeskRole.ADMIN)
    page = await ada.desk_page(f"/desk/case/{waste}")
    assert "Forged" not in page
    assert "<dt>Handled by</dt><dd>nobody yet</dd>" in page


async def test_admin_sees_every_department_and_slack_cases_read_only(web_bridge: Web) -> None:
    """An admin's inbox holds every department, those answering in Slack too, whose cases they read but not answer."""
    _, housing = await open_case(web_bridge, "My rent went up")
    ada = await web_bridge.signed_in_user("ada", role=DeskRole.ADMIN)
    assert housing in await ada.desk_page("/desk")
    page = await ada.desk_page(f"/desk/case/{housing}")
    assert "handled outside the desk" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "event_id": str(uuid.uuid4()), "do": "reply", "text": "Hello"}
    response = await ada.client.post(f"/desk/case/{housing}", data=form, allow_redirects=False)
    assert response.status == 403


async def test_only_admins_see_the_reports_link(web_bridge: Web) -> None:
    """The bar links to the reports for admins only."""
    ada = await web_bridge.signed_in_user("ada", role=DeskRole.ADMIN)
    grace = await web_bridge.signed_in_user("grace", ("roads",))
    assert 'href="/desk/reports"' in await ada.desk_page("/desk")
    assert 'href="/desk/reports"' not in await grace.desk_page("/desk")


async def test_staff_events_stream_carries_only_their_departments(web_bridge: Web) -> None:
    """The inbox's live stream of staff of roads hears roads' new cases, not waste's."""
    from tests.web.sse import connected, next_event  # noqa: PLC0415  # only this test reads a stream

    grace = await web_bridge.signed_in_user("grace", ("roads",))
    async with grace.client.get("/desk/events") as stream:
        await connected(stream)
        await open_case(web_bridge, "My bin was not collected")
        _, roads = await open_case(web_bridge, "There is a pothole on Mill Lane")
        event = await next_event(stream)
        assert event["reference"] == roads


def test_inbox_query_narrows_to_the_chosen_department() -> None:
    """A department filter keeps only that one of the reader's departments."""
    from bot.views import InboxQuery  # noqa: PLC0415  # a pure value test beside the HTTP ones

    keys = (DepartmentKey("roads"), DepartmentKey("waste"))
    assert InboxQuery(keys, department=DepartmentKey("waste")).chosen == (DepartmentKey("waste"),)
    assert InboxQuery(keys).chosen == keys


async def test_a_search_is_audited_without_its_words(web_bridge: Web, staff: Browser) -> None:
    """A desk search leaves an audit entry naming who searched, never what for."""
    from bot.privacy import audit_entries  # noqa: PLC0415  # only this test reads the audit trail

    await staff.desk_page("/desk?q=Lovelace")
    entries = await web_bridge.bridge.store.read(audit_entries)
    searches = [entry for entry in entries if entry.action == "desk_search"]
    assert len(searches) == 1
    assert "Lovelace" not in repr(searches[0])
