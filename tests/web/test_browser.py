"""The web chat and desk in a real browser: Debian's headless Chromium, driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect

from adapters.web.chat import WebChat
from adapters.web.desk import WebDesk
from adapters.web.security import RateLimiter
from adapters.web.static_files import StaticFiles
from bot.departments import Directory
from bot.desk_users import DeskUsers
from bot.sessions import issue_sign_in_link
from bot.storage.store import Store
from bot.storage.views import StoreViews
from bot.storage.web_sessions import StoreSessions
from tests.backends import open_store
from tests.bridge import build_bridge
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.web.harness import DESK_DIRECTORY

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing under CI: run scripts/install-browser.sh")
    pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh to run the browser test")


@asynccontextmanager
async def served_bridge(store: Store, tmp_path: Path, directory: Directory = DESK_DIRECTORY) -> AsyncIterator[str]:
    """The relay, a background worker and the web adapters on a real server at a free 127.0.0.1 port."""
    sessions = StoreSessions(store=store)
    chat = WebChat(
        views=StoreViews(store=store),
        directory=directory,
        max_message_chars=8000,
        limiter=RateLimiter(limit=10, window=60.0),
        address_limiter=RateLimiter(limit=60, window=60.0),
        session_limiter=RateLimiter(limit=10, window=60.0),
        static=StaticFiles.load(),
        sessions=sessions,
    )
    desk = WebDesk(
        views=StoreViews(store=store),
        directory=directory,
        users=DeskUsers(path=tmp_path / "desk-users.json"),
        sessions=sessions,
        max_message_chars=8000,
    )
    app = web.Application()
    chat.mount(app)
    desk.mount(app)
    async with build_bridge(store, store.now, citizen=[chat], department=[desk], directory=directory) as bridge:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with bridge.worker:
                yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless; never a downloaded browser."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def _case_reference(citizen: Page) -> str:
    await expect(citizen.locator("#case-status")).to_contain_text("Case CB-")
    status = await citizen.locator("#case-status").text_content()
    assert status is not None
    return status.split()[1]


async def test_citizen_and_desk_talk_live_in_a_real_browser(tmp_path: Path) -> None:
    """The citizen writes, the open desk sees the case, replies, and the chat shows the reply without reloading."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        citizen = await (await browser.new_context()).new_page()
        desk = await (await browser.new_context()).new_page()
        sign_in = await issue_sign_in_link(StoreSessions(store=store), base_url=base, lifetime=timedelta(hours=1))
        await desk.goto(sign_in)  # the one-time link that `civic-bridge run` prints while the desk has no users
        await expect(desk.get_by_role("heading", name="Cases")).to_be_visible()
        await citizen.goto(f"{base}/")
        await citizen.evaluate("window.notReloaded = true")

        await citizen.get_by_label("Your name").fill("Ada")
        await citizen.get_by_label("Your message").fill("There is a pothole on Mill Lane <script>x()</script>")
        await citizen.get_by_role("button", name="Send").click()
        reference = await _case_reference(citizen)
        await expect(citizen.locator(".msg-bridge").last).to_contain_text(reference)

        link = desk.get_by_role("link", name=reference)
        await expect(link).to_be_visible()  # arrived on the open list without a reload
        await link.click()
        await expect(desk.locator(".msg-citizen .text")).to_have_text(
            "There is a pothole on Mill Lane <script>x()</script>"
        )
        await desk.get_by_label("Reply to the citizen").fill("We will fix it on Monday. <b>Thanks</b>")
        await desk.get_by_role("button", name="Send reply").click()
        await expect(desk.get_by_role("status").filter(has_text="reply was sent")).to_be_visible()

        reply = citizen.locator(".msg-staff")
        await expect(reply.locator(".text")).to_have_text("We will fix it on Monday. <b>Thanks</b>")
        await expect(reply.locator(".who")).to_contain_text("Roads & Transport")
        assert await citizen.evaluate("window.notReloaded") is True
        await expect(desk.locator(".msg-staff .delivered")).to_be_visible()


async def test_chat_works_with_the_keyboard_alone(tmp_path: Path) -> None:
    """A citizen can reach the message box, write and send using only the keyboard."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        citizen = await (await browser.new_context()).new_page()
        await citizen.goto(f"{base}/")
        await expect(citizen.locator("#intro")).not_to_be_empty()
        await citizen.keyboard.press("Tab")  # the skip link
        await citizen.keyboard.press("Enter")
        await expect(citizen.get_by_label("Your message")).to_be_focused()
        await citizen.keyboard.type("My bin was not collected")
        await citizen.keyboard.press("Control+Enter")
        reference = await _case_reference(citizen)
        await expect(citizen.locator("#case-status")).to_contain_text("Waste & Recycling")
        assert reference.startswith("CB-")


async def test_arabic_citizen_page_reads_right_to_left(tmp_path: Path) -> None:
    """A citizen whose browser asks for Arabic gets a right-to-left page in Arabic, acknowledgement included."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        citizen = await (await browser.new_context(locale="ar")).new_page()
        await citizen.goto(f"{base}/")
        await expect(citizen.locator("html")).to_have_attribute("lang", "ar")
        assert await citizen.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
        await citizen.get_by_role("textbox", name="رسالتك").fill("توجد حفرة كبيرة في الطريق أمام منزلي pothole")
        await citizen.get_by_role("button", name="إرسال").click()
        ack = citizen.locator(".msg-bridge").last
        await expect(ack).to_contain_text("شكرًا")
        await expect(ack).to_have_attribute("dir", "rtl")
        assert await ack.evaluate("node => getComputedStyle(node).direction") == "rtl"


async def test_help_button_shows_the_commands_without_opening_a_case(tmp_path: Path) -> None:
    """Pressing the chat's help button shows how the chat works, as typing ``help`` does, and opens no case."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        citizen = await (await browser.new_context()).new_page()
        await citizen.goto(f"{base}/")
        await expect(citizen.locator("#intro")).not_to_be_empty()
        await citizen.get_by_role("button", name="How this chat works").click()
        await expect(citizen.locator(".msg-bridge").last).to_contain_text("Commands: start")
        await expect(citizen.locator("#case-status")).not_to_contain_text("Case CB-")


async def test_chat_hides_the_ctrl_enter_hint_on_touch_phones(tmp_path: Path) -> None:
    """On a touch phone (no hover, coarse pointer) the chat does not tell the citizen to press Ctrl+Enter."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        phone = await (
            await browser.new_context(is_mobile=True, has_touch=True, viewport={"width": 390, "height": 800})
        ).new_page()
        await phone.goto(f"{base}/")
        await expect(phone.locator("#intro")).not_to_be_empty()
        await expect(phone.get_by_text("Ctrl+Enter")).to_be_hidden()
        desktop = await (await browser.new_context()).new_page()
        await desktop.goto(f"{base}/")
        await expect(desktop.get_by_text("Ctrl+Enter")).to_be_visible()


async def _desk_on_a_new_case(store: Store, base: str, browser: Browser) -> Page:
    """A citizen opens a case through the chat; a desk page signed in with the link shows it."""
    citizen = await (await browser.new_context()).new_page()
    await citizen.goto(f"{base}/")
    await citizen.get_by_label("Your message").fill("There is a pothole on Mill Lane")
    await citizen.get_by_role("button", name="Send").click()
    reference = await _case_reference(citizen)
    desk = await (await browser.new_context()).new_page()
    await desk.goto(await issue_sign_in_link(StoreSessions(store=store), base_url=base, lifetime=timedelta(hours=1)))
    await desk.goto(f"{base}/desk/case/{reference}")
    return desk


async def test_ctrl_enter_sends_the_desk_reply(tmp_path: Path) -> None:
    """On the desk, Ctrl+Enter in the reply box sends the reply, as in the chat."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        desk = await _desk_on_a_new_case(store, base, browser)
        await desk.get_by_label("Reply to the citizen").fill("We will fix it on Monday.")
        await desk.get_by_label("Reply to the citizen").press("Control+Enter")
        await expect(desk.get_by_role("status").filter(has_text="reply was sent")).to_be_visible()


async def test_desk_puts_focus_on_the_notice_after_an_action(tmp_path: Path) -> None:
    """After an action the desk focuses the notice saying what happened, not the page body."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        desk = await _desk_on_a_new_case(store, base, browser)
        await desk.get_by_label("Internal note").fill("Check the photos.")
        await desk.get_by_role("button", name="Save note").click()
        await expect(desk.get_by_role("status").filter(has_text="note was saved")).to_be_focused()
