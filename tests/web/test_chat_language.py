"""The web chat in the citizen's language: the page's texts, the typed ``language`` command and the selector."""

from __future__ import annotations

import uuid

from tests.web.harness import Web


async def test_page_texts_follow_the_browsers_language(web_bridge: Web) -> None:
    """A browser asking for French gets the page's texts, its greeting and ``lang`` in French."""
    browser = await web_bridge.browser()
    browser.client.session.headers["Accept-Language"] = "fr-CH, fr;q=0.9, en;q=0.8"
    await browser.open_chat()
    data = await browser.history()
    assert (data["language"], data["dir"]) == ("fr", "ltr")
    assert data["texts"]["send"] == "Envoyer"
    assert data["intro"].startswith("Bonjour")


async def test_typed_language_command_switches_the_chat_to_german(web_bridge: Web) -> None:
    """Typing ``language de`` is confirmed in German and the page turns German; nothing reaches a department."""
    browser = await web_bridge.browser()
    await browser.open_chat()
    await browser.say("language de")
    await web_bridge.bridge.settle()
    data = await browser.history()
    assert [item["text"] for item in data["items"]][-1] == "Ab jetzt schreiben wir Ihnen auf Deutsch."
    assert data["language"] == "de"
    assert data["texts"]["send"] == "Senden"
    assert data["case"] is None


async def test_selector_chooses_arabic_right_to_left(web_bridge: Web) -> None:
    """Choosing Arabic in the page's selector makes the page Arabic and right to left."""
    browser = await web_bridge.browser()
    await browser.open_chat()
    response = await browser.post_chat("/chat/language", {"event_id": str(uuid.uuid4()), "language": "ar"})
    assert response.status == 200
    await web_bridge.bridge.settle()
    data = await browser.history()
    assert (data["language"], data["dir"]) == ("ar", "rtl")
    assert {"code": "ar", "name": "العربية"} in data["languages"]


async def test_refusal_in_the_browsers_language(web_bridge: Web) -> None:
    """An empty message is refused in the browser's language."""
    browser = await web_bridge.browser()
    browser.client.session.headers["Accept-Language"] = "es"
    await browser.open_chat()
    response = await browser.say("   ")
    assert response.status == 400
    assert (await response.json())["error"] == "Escriba un mensaje antes de enviarlo."


async def test_desk_shows_the_citizens_language_and_direction(web_bridge: Web) -> None:
    """Staff see an Arabic citizen's language on the case, and their messages marked Arabic, right to left."""
    citizen = await web_bridge.browser()
    citizen.client.session.headers["Accept-Language"] = "ar"
    await citizen.open_chat()
    await citizen.say("توجد حفرة كبيرة في الطريق pothole")
    await web_bridge.bridge.settle()
    reference = (await citizen.history())["case"]["reference"]
    staff = await web_bridge.signed_in_staff()
    listing = await staff.desk_page()
    page = await staff.desk_page(f"/desk/case/{reference}")
    assert " · telegram · " not in listing
    assert " · web · ar</span>" in listing
    assert "<dt>Language</dt><dd>Arabic (ar)</dd>" in page
    assert '<li class="msg msg-citizen" lang="ar" dir="rtl">' in page
