"""The citizen web chat over HTTP: session, sending, history, live replies, and its protections."""

from __future__ import annotations

import re
import uuid

from bot.model import CaseStatus
from tests.fakes import FakeClock
from tests.web.harness import Browser, Web
from tests.web.sse import connected, next_event


async def _reference(citizen: Browser) -> str:
    data = await citizen.history()
    assert data["case"] is not None
    return str(data["case"]["reference"])


async def test_chat_page_sets_an_httponly_lax_session_cookie(web_bridge: Web) -> None:
    """Opening the chat gives the browser a random HttpOnly, SameSite=Lax session cookie."""
    browser = await web_bridge.browser()
    page = await browser.client.get("/")
    cookie = page.cookies["cb_chat"]
    assert len(cookie.value) >= 43
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


async def test_chat_page_forbids_inline_scripts_and_other_origins(web_bridge: Web) -> None:
    """The page's policy allows scripts from this server only, and the page has no inline script."""
    browser = await web_bridge.browser()
    page = await browser.client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert re.findall(r"<script(?![^>]*\bsrc=)", await page.text()) == []


async def test_first_message_opens_a_case_the_desk_lists(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A citizen's first web message opens a case that appears in its department's desk list."""
    response = await citizen.say("There is a pothole on Mill Lane", name="Ada")
    assert response.status == 200
    await web_bridge.bridge.settle()
    reference = await _reference(citizen)
    html = await staff.desk_page("/desk")
    assert reference in html
    assert "Ada" in html


async def test_citizen_sees_acknowledgement_with_reference_and_department(web_bridge: Web, citizen: Browser) -> None:
    """After the first message the chat shows the acknowledgement naming the case and the department."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    data = await citizen.history()
    own, ack = data["items"]
    assert (own["who"], own["text"]) == ("citizen", "There is a pothole on Mill Lane")
    assert ack["kind"] == "ack"
    assert data["case"]["reference"] in ack["text"]
    assert "Roads & Transport" in ack["text"]
    assert data["case"]["status"] == "open"


async def test_desk_reply_arrives_on_the_open_chat_stream(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A desk reply is pushed to the citizen's open chat page without a reload, signed with the department."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = await _reference(citizen)
    stream = await citizen.client.get("/chat/events")
    assert stream.headers["Content-Type"] == "text/event-stream"
    await connected(stream)
    await staff.desk_post(reference, do="reply", text="We will fix it on Monday.")
    await web_bridge.bridge.settle()
    event = await next_event(stream)
    assert event["item"]["text"] == "We will fix it on Monday."
    assert event["item"]["signature"] == "Roads & Transport"
    stream.close()


async def test_returning_citizen_sees_the_same_conversation(
    web_bridge: Web, citizen: Browser, staff: Browser, clock: FakeClock
) -> None:
    """A citizen who comes back with the same cookie sees their messages and the replies sent while away."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = await _reference(citizen)
    clock.advance(60)
    await staff.desk_post(reference, do="reply", text="We will fix it on Monday.")
    await web_bridge.bridge.settle()
    returning = await web_bridge.browser()
    returning.client.session.cookie_jar.update_cookies({"cb_chat": citizen.chat_cookie()})
    await returning.open_chat()
    texts = await returning.texts()
    assert texts[0] == "There is a pothole on Mill Lane"
    assert texts[-1] == "We will fix it on Monday."


async def test_new_browser_without_the_cookie_sees_nothing(web_bridge: Web, citizen: Browser) -> None:
    """Another browser gets a new session: no one else's conversation."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    stranger = await web_bridge.browser()
    await stranger.open_chat()
    assert await stranger.texts() == []


async def test_internal_notes_never_reach_the_chat(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """An internal note written on the desk is not in the citizen's conversation."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = await _reference(citizen)
    await staff.desk_post(reference, do="note", text="Caller is a regular; check the photos.")
    await web_bridge.bridge.settle()
    assert not any("regular" in text for text in await citizen.texts())


async def test_post_without_the_csrf_token_is_refused(web_bridge: Web, citizen: Browser) -> None:
    """A chat POST whose CSRF header does not match the session is refused and nothing is stored."""
    response = await citizen.post_chat("/chat/send", {"event_id": str(uuid.uuid4()), "text": "hi"}, csrf="forged")
    assert response.status == 403
    assert await citizen.texts() == []


async def test_post_without_a_session_is_refused(web_bridge: Web) -> None:
    """A chat POST with no session cookie is refused with a reason."""
    browser = await web_bridge.browser()
    response = await browser.say("hello")
    assert response.status == 401
    assert "Reload" in (await response.json())["error"]


async def test_retried_post_with_the_same_event_id_is_stored_once(web_bridge: Web, citizen: Browser) -> None:
    """The page retries a lost POST with the same event id: the bridge keeps one message."""
    event_id = str(uuid.uuid4())
    for _ in range(2):
        assert (await citizen.say("There is a pothole on Mill Lane", event_id=event_id)).status == 200
    await web_bridge.bridge.settle()
    assert (await citizen.texts()).count("There is a pothole on Mill Lane") == 1


async def test_too_many_messages_in_a_minute_get_429_with_retry_after(web_bridge: Web, citizen: Browser) -> None:
    """The eleventh message within a minute is refused with 429, Retry-After and a clear message."""
    for number in range(10):
        assert (await citizen.say(f"pothole number {number}")).status == 200
    refused = await citizen.say("one more pothole")
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "too quickly" in (await refused.json())["error"]


async def test_sending_is_allowed_again_after_the_minute(web_bridge: Web, citizen: Browser) -> None:
    """Once the minute has passed, the citizen can send again."""
    for number in range(10):
        await citizen.say(f"pothole number {number}")
    web_bridge.rate_clock.now += 61
    assert (await citizen.say("one more pothole")).status == 200


async def test_message_over_the_size_limit_gets_413(web_bridge: Web, citizen: Browser) -> None:
    """A message longer than the limit is refused with 413 and says the limit; nothing is stored."""
    refused = await citizen.say("x" * 8001)
    assert refused.status == 413
    assert "8000" in (await refused.json())["error"]
    assert await citizen.texts() == []


async def test_unsure_routing_offers_a_menu_and_the_choice_routes_the_case(web_bridge: Web, citizen: Browser) -> None:
    """When routing is unsure the chat offers departments; choosing one opens the case there."""
    await citizen.say("A pothole next to my bin")
    await web_bridge.bridge.settle()
    data = await citizen.history()
    menu = data["items"][-1]
    assert data["open_menu"] == menu["id"]
    assert [o["key"] for o in menu["options"]] == ["roads", "waste", "other"]
    assert data["case"]["status"] == CaseStatus.PENDING.value
    await citizen.post_chat("/chat/choose", {"event_id": str(uuid.uuid4()), "choice": "waste"})
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert (data["case"]["status"], data["case"]["department"]) == ("open", "Waste & Recycling")
    assert data["open_menu"] is None


async def test_new_case_button_closes_the_current_case(web_bridge: Web, citizen: Browser) -> None:
    """The new-case button closes the open case, so the next message opens another."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    await citizen.post_chat("/chat/new", {"event_id": str(uuid.uuid4())})
    await web_bridge.bridge.settle()
    assert (await citizen.history())["case"]["status"] == "closed"


async def test_staff_markup_reaches_the_page_as_plain_json_text(
    web_bridge: Web, citizen: Browser, staff: Browser
) -> None:
    """Staff text with HTML arrives unchanged in JSON (the page shows it with textContent, never as HTML)."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = await _reference(citizen)
    await staff.desk_post(reference, do="reply", text="<script>alert('x')</script> & <b>soon</b>")
    await web_bridge.bridge.settle()
    response = await citizen.client.get("/chat/history")
    assert response.content_type == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await citizen.texts())[-1] == "<script>alert('x')</script> & <b>soon</b>"


async def test_chat_script_never_writes_html(web_bridge: Web) -> None:
    """The chat and desk scripts build text with textContent, never innerHTML or document.write."""
    browser = await web_bridge.browser()
    for name in ("chat.js", "desk.js", "widget.js"):
        script = await (await browser.client.get(f"/static/{name}")).text()
        assert "innerHTML" not in script
        assert "document.write" not in script


async def test_widget_script_is_served_as_javascript(web_bridge: Web) -> None:
    """``/widget.js`` is JavaScript that embeds the chat page in an iframe."""
    browser = await web_bridge.browser()
    response = await browser.client.get("/widget.js")
    assert response.status == 200
    assert response.content_type == "text/javascript"
    assert "/?embed=1" in await response.text()


async def test_favicon_is_a_small_icon_not_a_404(web_bridge: Web) -> None:
    """``/favicon.ico``, which every browser asks for, answers with an image."""
    browser = await web_bridge.browser()
    response = await browser.client.get("/favicon.ico")
    assert response.status == 200
    assert response.content_type.startswith("image/")


async def test_static_files_outside_the_folder_are_not_served(web_bridge: Web) -> None:
    """Only the package's own static files are served; paths that climb out are not found."""
    browser = await web_bridge.browser()
    for path in ("/static/..%2Fchat.py", "/static/chat.py", "/static/nothing.js"):
        assert (await browser.client.get(path)).status == 404
