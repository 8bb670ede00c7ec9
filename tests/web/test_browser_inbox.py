"""The desk inbox in a real browser: views, department filter, search, staff and admins, live updates; layout checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, expect

from bot.desk_users import DeskRole, DeskUsers
from tests.backends import open_store
from tests.web.test_browser import _require_chromium, chromium, served_bridge

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"  # noqa: S105  # the test users' password


async def _citizen_writes(browser: Browser, base: str, text: str) -> str:
    """A new citizen writes ``text`` in the chat; the case reference they are given."""
    citizen = await (await browser.new_context()).new_page()
    await citizen.goto(f"{base}/")
    await citizen.get_by_label("Your message").fill(text)
    await citizen.get_by_role("button", name="Send").click()
    status = citizen.locator("#case-status")
    await expect(status).to_contain_text("Case CB-")
    words = (await status.text_content() or "").split()
    await citizen.close()
    return words[1]


async def _signed_in(  # each is a distinct fact about the user and their screen
    browser: Browser,
    base: str,
    tmp_path: Path,
    username: str,
    *,
    departments: tuple[str, ...] | None = None,
    role: DeskRole = DeskRole.STAFF,
    viewport: ViewportSize | None = None,
) -> Page:
    """A desk page signed in with a password as a new desk user."""
    DeskUsers(path=tmp_path / "desk-users.json").add(username, PASSWORD, departments, role=role)
    context = await browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(f"{base}/desk")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    return page


async def test_inbox_views_and_department_filter(tmp_path: Path) -> None:
    """Staff move between "Unassigned" and "Mine" and filter by department, each view counted."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        roads = await _citizen_writes(browser, base, "There is a pothole on Mill Lane")
        waste = await _citizen_writes(browser, base, "My bin was not collected")
        desk = await _signed_in(browser, base, tmp_path, "ada", role=DeskRole.ADMIN)
        views = desk.get_by_role("navigation", name="Inbox views")
        await expect(views.get_by_role("link", name="Unassigned 2")).to_be_visible()
        await desk.get_by_role("link", name=roads).click()
        await desk.get_by_role("button", name="Claim (I handle it)").click()
        await desk.get_by_role("link", name="← All cases").click()
        await views.get_by_role("link", name="Mine 1").click()
        await expect(desk.get_by_role("link", name=roads)).to_be_visible()
        await expect(desk.get_by_role("link", name=waste)).to_have_count(0)
        await views.get_by_role("link", name="Unassigned 1").click()
        await expect(desk.get_by_role("link", name=waste)).to_be_visible()
        await expect(desk.get_by_role("link", name=roads)).to_have_count(0)
        await views.get_by_role("link", name="All open 2").click()
        filters = desk.get_by_role("navigation", name="Departments (open cases)")
        await filters.get_by_role("link", name="Waste & Recycling 1").click()
        await expect(desk.get_by_role("link", name=waste)).to_be_visible()
        await expect(desk.get_by_role("link", name=roads)).to_have_count(0)


async def test_inbox_search_finds_message_text(tmp_path: Path) -> None:
    """Searching for words of a message lists only the cases holding them."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        await _citizen_writes(browser, base, "There is a pothole on Mill Lane")
        waste = await _citizen_writes(browser, base, "My bin was not collected")
        desk = await _signed_in(browser, base, tmp_path, "ada", role=DeskRole.ADMIN)
        await desk.get_by_label("Search cases").fill("NOT collected")
        await desk.get_by_label("Search cases").press("Enter")
        await expect(desk.get_by_role("heading", name="1 case matching")).to_be_visible()
        await expect(desk.locator("table.cases tbody tr")).to_have_count(1)
        await expect(desk.get_by_role("link", name=waste)).to_be_visible()


async def test_staff_see_only_their_department_and_no_reports(tmp_path: Path) -> None:
    """Staff of roads see roads' cases only, get "not found" for a waste case's URL, and no Reports link."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        roads = await _citizen_writes(browser, base, "There is a pothole on Mill Lane")
        waste = await _citizen_writes(browser, base, "My bin was not collected")
        grace = await _signed_in(browser, base, tmp_path, "grace", departments=("roads",))
        await expect(grace.get_by_role("link", name=roads)).to_be_visible()
        await expect(grace.get_by_role("link", name=waste)).to_have_count(0)
        await expect(grace.get_by_role("link", name="Reports")).to_have_count(0)
        response = await grace.goto(f"{base}/desk/case/{waste}")
        assert response is not None
        assert response.status == 404
        await expect(grace.get_by_role("heading", name="Case not found")).to_be_visible()
        ada = await _signed_in(browser, base, tmp_path, "ada", role=DeskRole.ADMIN)
        await expect(ada.get_by_role("link", name=waste)).to_be_visible()
        await expect(ada.get_by_role("navigation", name="Desk").get_by_role("link", name="Reports")).to_have_attribute(
            "href", "/desk/reports"
        )


async def test_filtered_inbox_updates_live(tmp_path: Path) -> None:
    """An open inbox filtered to roads' unassigned cases shows a new roads case and its count without a reload."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        desk = await _signed_in(browser, base, tmp_path, "ada", role=DeskRole.ADMIN)
        await desk.goto(f"{base}/desk?view=unassigned&department=roads")
        await expect(desk.locator("#no-cases")).to_be_visible()
        await desk.evaluate("window.notReloaded = true")
        waste = await _citizen_writes(browser, base, "My bin was not collected")
        roads = await _citizen_writes(browser, base, "There is a pothole on Mill Lane")
        await expect(desk.get_by_role("link", name=roads)).to_be_visible()
        views = desk.get_by_role("navigation", name="Inbox views")
        await expect(views.get_by_role("link", name="Unassigned 1")).to_be_visible()
        await expect(desk.get_by_role("link", name=waste)).to_have_count(0)
        assert await desk.evaluate("window.notReloaded") is True
        assert desk.url.endswith("/desk?view=unassigned&department=roads")


async def test_desk_bar_is_tidy_on_a_laptop_and_a_phone(tmp_path: Path) -> None:
    """The signed-in bar is one row at 1280×800 and never wider than a phone's screen."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        laptop = await _signed_in(browser, base, tmp_path, "ada", role=DeskRole.ADMIN)
        bar = await laptop.locator("header.bar").bounding_box()
        sign_out = await laptop.get_by_role("button", name="Sign out").bounding_box()
        brand = await laptop.get_by_role("link", name="Civic desk").bounding_box()
        assert bar is not None
        assert sign_out is not None
        assert brand is not None
        assert bar["height"] < 70  # one row of the bar, in CSS pixels
        # On one line: the centres of "Civic desk" and "Sign out" within 6 pixels of each other.
        assert abs((sign_out["y"] + sign_out["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 6
        phone = await _signed_in(
            browser, base, tmp_path, "grace", departments=("roads",), viewport={"width": 390, "height": 844}
        )
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
        await expect(phone.get_by_role("button", name="Sign out")).to_be_in_viewport()


@asynccontextmanager
async def _city_page(base: str) -> AsyncIterator[str]:
    """The city's own page with the chat widget, served from another origin (another local port)."""

    async def page(_request: web.Request) -> web.Response:
        html = f'<!doctype html><title>City</title><h1>City</h1><script src="{base}/widget.js" defer></script>'
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()


async def test_widget_shows_the_whole_message_box_at_1280x800(tmp_path: Path) -> None:
    """On a 1280×800 screen, mid-conversation, the open widget shows the message box and Send inside its frame."""
    _require_chromium()
    async with (
        open_store("sqlite", tmp_path) as store,
        served_bridge(store, tmp_path) as base,
        chromium() as browser,
        _city_page(base) as city,
    ):
        page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        await page.goto(city)
        await page.get_by_role("button", name="Chat with us").click()
        chat = page.frame_locator("#civic-bridge-chat iframe")
        for text in ("There is a pothole on Mill Lane", "It is next to the bus stop", "And it is getting deeper"):
            await chat.get_by_label("Your message").fill(text)
            await chat.get_by_role("button", name="Send").click()
            await expect(chat.locator(".msg-citizen").filter(has_text=text)).to_be_visible()
        frame = await page.locator("#civic-bridge-chat iframe").bounding_box()
        assert frame is not None
        for control in (chat.get_by_label("Your message"), chat.get_by_role("button", name="Send")):
            box = await control.bounding_box()
            assert box is not None
            assert frame["y"] <= box["y"]
            assert box["y"] + box["height"] <= frame["y"] + frame["height"]
