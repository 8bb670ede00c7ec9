"""The web desk over HTTP: case lists, the case page, replies, notes, actions, sign-in and protections."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.model import CaseStatus
from bot.storage.store import Store
from tests.fakes import FakeClock
from tests.learned_cli import routes_learned
from tests.web.harness import Browser, Web, running_web
from tests.web.sse import connected, next_event


async def _open_case(web_bridge: Web, citizen: Browser, text: str = "There is a pothole on Mill Lane") -> str:
    await citizen.say(text)
    await web_bridge.bridge.settle()
    data = await citizen.history()
    return str(data["case"]["reference"])


async def test_desk_lists_open_cases_before_closed_ones(
    web_bridge: Web, citizen: Browser, staff: Browser, clock: FakeClock
) -> None:
    """The inbox opens on the open cases; closed ones are in their own view, counted beside it."""
    first = await _open_case(web_bridge, citizen)
    await staff.desk_post(first, do="close")
    await web_bridge.bridge.settle()
    clock.advance(60)
    second = await _open_case(web_bridge, citizen, "Another pothole on Mill Lane")
    html = await staff.desk_page("/desk")
    assert second in html
    assert first not in html
    assert 'data-view="closed">Closed <span class="count">1</span>' in html
    assert first in await staff.desk_page("/desk?view=closed")


async def test_desk_lists_only_desk_departments_to_staff(web_bridge: Web) -> None:
    """Staff see the departments answering on the desk, not those answering in Slack."""
    grace = await web_bridge.signed_in_user("grace")
    html = await grace.desk_page("/desk")
    assert "Roads &amp; Transport" in html
    assert "Housing" not in html


async def test_case_page_shows_the_whole_conversation(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """The case page shows the citizen's messages, staff replies and notes, in order."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_post(reference, do="reply", text="We are on it.")
    await staff.desk_post(reference, do="note", text="Crew booked for Monday.")
    html = await staff.desk_page(f"/desk/case/{reference}")
    assert html.index("There is a pothole on Mill Lane") < html.index("We are on it.") < html.index("Crew booked")
    assert "Internal note" in html


async def test_citizen_script_tags_are_escaped_on_the_desk(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A citizen's <script> is shown as text on the desk's list and case page, never run."""
    reference = await _open_case(web_bridge, citizen, "pothole <script>alert('x')</script>")
    for path in ("/desk", f"/desk/case/{reference}"):
        html = await staff.desk_page(path)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


async def test_citizen_name_is_escaped_on_the_desk(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """The name a citizen types is escaped like their text."""
    await citizen.say("pothole on Mill Lane", name='<img src=x onerror="alert(1)">')
    await web_bridge.bridge.settle()
    html = await staff.desk_page("/desk")
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


async def test_desk_reply_reaches_the_citizen_signed(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A reply from the desk reaches the citizen's chat, signed with the department's name."""
    reference = await _open_case(web_bridge, citizen)
    response = await staff.desk_post(reference, do="reply", text="We will fix it on Monday.")
    assert response.status == 303
    await web_bridge.bridge.settle()
    last = (await citizen.history())["items"][-1]
    assert (last["text"], last["signature"]) == ("We will fix it on Monday.", "Roads & Transport")


async def test_delivered_reply_is_marked_on_the_desk(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Once the citizen's chat got a reply, the desk marks it delivered."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_post(reference, do="reply", text="We will fix it on Monday.")
    await web_bridge.bridge.settle()
    assert ">delivered<" in await staff.desk_page(f"/desk/case/{reference}")


async def test_resubmitted_reply_form_sends_once(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Submitting the same reply form twice (same event id) sends one reply."""
    reference = await _open_case(web_bridge, citizen)
    html = await staff.desk_page(f"/desk/case/{reference}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    event = re.search(r'name="event_id" value="([^"]+)"', html)
    assert csrf is not None
    assert event is not None
    form = {"csrf": csrf.group(1), "event_id": event.group(1), "do": "reply", "text": "Once only."}
    for _ in range(2):
        await staff.client.post(f"/desk/case/{reference}", data=form, allow_redirects=False)
    await web_bridge.bridge.settle()
    assert (await citizen.texts()).count("Once only.") == 1


async def test_note_box_stores_a_note_the_citizen_never_gets(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """The internal note box saves a note (prefixed ``note:``) and nothing goes to the citizen."""
    reference = await _open_case(web_bridge, citizen)
    before = len(await citizen.texts())
    await staff.desk_post(reference, do="note", text="Check the photos.")
    await web_bridge.bridge.settle()
    assert len(await citizen.texts()) == before
    html = await staff.desk_page(f"/desk/case/{reference}")
    assert re.search(r'class="msg msg-note">.*Check the photos\.', html)


async def test_reply_starting_with_note_shows_the_note_banner(
    web_bridge: Web, citizen: Browser, staff: Browser
) -> None:
    """A reply box text starting ``note:`` is saved as a note, and the banner says so, not "sent to the citizen"."""
    reference = await _open_case(web_bridge, citizen)
    response = await staff.desk_post(reference, do="reply", text="note: Check the photos.")
    assert response.headers["Location"] == f"/desk/case/{reference}?done=note"


async def test_follow_up_case_links_to_the_earlier_case(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A citizen's case opened after their earlier one shows a link to that earlier case."""
    earlier = await _open_case(web_bridge, citizen)
    await citizen.say("new")
    await web_bridge.bridge.settle()
    later = await _open_case(web_bridge, citizen, "The pothole on Mill Lane is back")
    assert later != earlier
    html = await staff.desk_page(f"/desk/case/{later}")
    assert f'<dt>Follows up</dt><dd><a href="/desk/case/{earlier}">{earlier}</a></dd>' in html


async def test_close_closes_the_case_and_tells_the_citizen(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Close on the desk closes the case, and the citizen's chat says so."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_post(reference, do="close")
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert data["case"]["status"] == CaseStatus.CLOSED.value
    assert "closed" in data["items"][-1]["text"]


async def test_reopen_opens_a_closed_case_again(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Reopen on a closed case opens it again and tells the citizen."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_post(reference, do="close")
    await web_bridge.bridge.settle()
    await staff.desk_post(reference, do="reopen")
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert data["case"]["status"] == CaseStatus.OPEN.value
    assert "reopened" in data["items"][-1]["text"]


async def test_claim_shows_who_handles_the_case(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Claim records the desk user as handling the case, on the desk and in the citizen's chat."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_post(reference, do="claim")
    await web_bridge.bridge.settle()
    assert "<dt>Handled by</dt><dd>Staff</dd>" in await staff.desk_page(f"/desk/case/{reference}")
    assert "handling your case" in (await citizen.texts())[-1]


async def test_claim_button_disappears_once_you_claimed(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """After claiming a case the case page no longer offers "Claim" to the one who holds it."""
    reference = await _open_case(web_bridge, citizen)
    assert 'value="claim"' in await staff.desk_page(f"/desk/case/{reference}")
    await staff.desk_post(reference, do="claim")
    await web_bridge.bridge.settle()
    assert 'value="claim"' not in await staff.desk_page(f"/desk/case/{reference}")


async def test_transfer_moves_the_case_to_the_other_department(
    web_bridge: Web, citizen: Browser, staff: Browser
) -> None:
    """Transfer moves the case to the chosen department's list and tells the citizen."""
    reference = await _open_case(web_bridge, citizen)
    response = await staff.desk_post(reference, do="transfer", department="waste")
    assert response.headers["Location"] == "/desk?done=transfer"
    await web_bridge.bridge.settle()
    html = await staff.desk_page("/desk")
    waste = html.index("Waste &amp; Recycling")
    assert html.index(reference) > waste
    assert "Waste & Recycling" in (await citizen.texts())[-1]
    page = await staff.desk_page(f"/desk/case/{reference}")
    assert "<dt>Department</dt><dd>Waste &amp; Recycling</dd>" in page


async def test_desk_form_without_the_csrf_token_is_refused(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A desk form post whose CSRF token does not match the session changes nothing."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_page("/desk")
    form = {"csrf": "forged", "event_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12, "do": "close"}
    response = await staff.client.post(f"/desk/case/{reference}", data=form, allow_redirects=False)
    assert response.status == 403
    await web_bridge.bridge.settle()
    assert (await citizen.history())["case"]["status"] == "open"


async def test_desk_cookie_is_httponly_and_strict(web_bridge: Web) -> None:
    """The desk session cookie (set at sign-in) is HttpOnly, SameSite=Strict and limited to /desk."""
    staff = await web_bridge.browser()
    response = await staff.client.get(await web_bridge.sign_in_link(), allow_redirects=False)
    cookie = response.cookies["cb_desk"]
    assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Strict", "/desk")


async def test_desk_pages_cannot_be_framed(web_bridge: Web, staff: Browser) -> None:
    """The desk may not be put in another site's frame (clickjacking)."""
    response = await staff.client.get("/desk")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_link_session_says_how_to_add_users(web_bridge: Web, staff: Browser) -> None:
    """Signed in with the one-time link (no users yet), the desk says so in a banner and how to add a user."""
    html = await staff.desk_page("/desk")
    assert 'class="banner"' in html
    assert "civic-bridge desk add-user" in html


async def test_desk_live_stream_announces_a_new_case(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """An open desk page hears about a new case in its department as soon as the case reaches the desk."""
    await staff.desk_page("/desk")
    stream = await staff.client.get("/desk/events")
    await connected(stream)
    reference = await _open_case(web_bridge, citizen)
    event = await next_event(stream)
    assert (event["reference"], event["kind"]) == (reference, "root")
    stream.close()


async def test_unknown_case_is_not_found(web_bridge: Web, staff: Browser) -> None:
    """A case reference that does not exist answers 404."""
    response = await staff.client.get("/desk/case/CB-NOPE00")
    assert response.status == 404


async def test_desk_without_users_sends_strangers_to_the_sign_in_page(web_bridge: Web) -> None:
    """With no users, a browser that has not used the sign-in link is sent to a page that explains the link."""
    browser = await web_bridge.browser()
    response = await browser.client.get("/desk", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/desk/login")
    text = await (await browser.client.get(response.headers["Location"])).text()
    assert "sign-in link" in text
    assert "civic-bridge desk add-user" in text


async def test_desk_with_users_asks_for_sign_in(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Once a user exists, the desk sends strangers to the sign-in page."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", "correct horse battery", None)
        browser = await running.browser()
        response = await browser.client.get("/desk", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/desk/login")


async def _sign_in(browser: Browser, username: str, password: str) -> int:
    html = await (await browser.client.get("/desk/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "next": "/desk", "username": username, "password": password}
    response = await browser.client.post("/desk/login", data=form, allow_redirects=False)
    return response.status


async def test_sign_in_with_the_right_password_opens_the_desk(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """The right password signs in; the desk then shows the user's name and no open-access banner."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", "correct horse battery", None)
        browser = await running.browser()
        assert await _sign_in(browser, "grace", "correct horse battery") == 303
        html = await browser.desk_page("/desk")
        assert "Signed in as <strong>grace</strong>" in html
        assert 'class="banner"' not in html


async def test_wrong_password_is_refused(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """A wrong password answers 401 and the desk stays closed."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", "correct horse battery", None)
        browser = await running.browser()
        assert await _sign_in(browser, "grace", "wrong password!") == 401
        assert (await browser.client.get("/desk", allow_redirects=False)).status == 303


async def test_repeated_wrong_passwords_are_slowed_down(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """After five failed sign-ins in a minute the desk answers 429."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", "correct horse battery", None)
        browser = await running.browser()
        statuses = [await _sign_in(browser, "grace", "wrong password!") for _ in range(6)]
        assert statuses == [401] * 5 + [429]


async def test_user_sees_only_their_departments(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """A user limited to one department sees its cases, not another department's."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("wanda", "correct horse battery", ("waste",))
        citizen = await running.browser()
        await citizen.open_chat()
        reference = await _open_case(running, citizen)
        browser = await running.browser()
        await _sign_in(browser, "wanda", "correct horse battery")
        html = await browser.desk_page("/desk")
        assert reference not in html
        assert "Roads" not in html
        assert (await browser.client.get(f"/desk/case/{reference}")).status == 404


async def test_sign_out_ends_the_session(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Signing out sends the browser back to the sign-in page."""
    async with running_web(store, clock, tmp_path) as running:
        running.users.add("grace", "correct horse battery", None)
        browser = await running.browser()
        await _sign_in(browser, "grace", "correct horse battery")
        html = await browser.desk_page("/desk")
        csrf = re.search(r'name="csrf" value="([^"]+)"', html)
        assert csrf is not None
        await browser.client.post("/desk/logout", data={"csrf": csrf.group(1)}, allow_redirects=False)
        assert (await browser.client.get("/desk", allow_redirects=False)).status == 303


async def test_transfer_on_the_desk_shows_up_in_routes_learned(
    web_bridge: Web, citizen: Browser, staff: Browser, tmp_path: Path
) -> None:
    """A case staff transfer on the desk is listed by ``routes learned`` under its new department."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_post(reference, do="transfer", department="waste")
    await web_bridge.bridge.settle()
    shown = await routes_learned(web_bridge.bridge.store, tmp_path)
    assert "transfer waste" in " ".join(shown.split())
    assert "There is a pothole on Mill Lane" in shown


async def test_desk_shows_times_in_the_office_time_zone(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """With the office in New York, the case page shows when the case was opened in New York time, not UTC."""
    async with running_web(store, clock, tmp_path, zone=ZoneInfo("America/New_York")) as running:
        citizen = await running.browser()
        await citizen.open_chat()
        reference = await _open_case(running, citizen)
        html = await (await running.signed_in_staff()).desk_page(f"/desk/case/{reference}")
    local = store.now().astimezone(ZoneInfo("America/New_York"))
    assert f"<dt>Opened</dt><dd>{local:%Y-%m-%d %H:%M} {local.tzname()}</dd>" in html
