# ruff: noqa: INP001  # scripts/ holds runnable scripts, not a package
"""Takes the README's screenshots of the web chat and the web desk.

Runs the real bridge (``bot.app.App``) on a throwaway SQLite database with the
built-in example routing (roads given an answer-time target, so the inbox has its
"Overdue" view), signs in to the desk as an admin, plays a short conversation in
Debian's headless Chromium, and saves docs/screenshots/webchat.png, desk.png,
desk-list.png (the inbox at 1280×800), desk-inbox-phone.png (the inbox on a phone)
and widget.png (the chat widget open on a page at 1280×800).

    python scripts/screenshots.py            # needs /usr/bin/chromium (scripts/install-browser.sh)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402  # after the repository root is importable
from bot.desk_users import DeskRole, DeskUsers  # noqa: E402  # same
from config.routing_file import EXAMPLE_ROUTING_PATH  # noqa: E402  # same
from config.settings import load_settings  # noqa: E402  # same
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  # same

OUT = ROOT / "docs" / "screenshots"
#: The admin the pictures are taken as (a throwaway users file).
ADMIN, PASSWORD = "ada", "screenshots only"
#: A page of the city's own website with the chat widget on it.
HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>City of Example</title></head>
<body style="font-family: sans-serif; margin: 2rem"><h1>City of Example</h1><p>Bins, roads, parks and more.</p>
<script src="{base}/widget.js" defer></script></body></html>"""


def _routing(folder: Path) -> Path:
    """The example routing file, roads with an answer-time target (the inbox then offers "Overdue")."""
    text = EXAMPLE_ROUTING_PATH.read_text(encoding="utf-8")
    text = text.replace("    name: Roads & Transport\n", "    name: Roads & Transport\n    first_response: 8h\n", 1)
    path = folder / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@asynccontextmanager
async def _city_site(base: str) -> AsyncIterator[str]:
    """The city's own page with the widget on it, served from another origin (another local port)."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=HOST_PAGE.format(base=base), content_type="text/html")

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


async def _sign_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/desk")
    await page.get_by_label("Username").fill(ADMIN)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cases")).to_be_visible()


async def _write(page: Page, text: str, name: str = "") -> str:
    if name:
        await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Your message").fill(text)
    await page.get_by_role("button", name="Send").click()
    status = page.locator("#case-status")
    await expect(status).to_contain_text("Case CB-")
    words = (await status.text_content() or "").split()
    return words[1]


async def _phone_and_widget(browser: Browser, base: str) -> None:
    """The inbox on a phone, and the chat widget open on the city's page at 1280×800."""
    phone = await (
        await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    ).new_page()
    await _sign_in(phone, base)
    await phone.screenshot(path=OUT / "desk-inbox-phone.png")
    site = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    async with _city_site(base) as city:
        await site.goto(city)
        await site.get_by_role("button", name="Chat with us").click()
        await site.wait_for_timeout(1500)  # the chat loads inside the frame; nothing to wait on from outside
        await site.screenshot(path=OUT / "widget.png")


async def main() -> None:
    """Run the bridge, play the conversation, save the pictures."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        settings = load_settings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'bridge.db'}",
            http_host="127.0.0.1",
            http_port=0,
            routing_file=_routing(tmp),
            desk_users_file=tmp / "desk-users.json",
            log_level="WARNING",
        )
        DeskUsers(path=tmp / "desk-users.json").add(ADMIN, PASSWORD, None, name="Ada Lovelace", role=DeskRole.ADMIN)
        async with App(settings=settings) as app, async_playwright() as playwright:
            base = f"http://127.0.0.1:{app.port}"
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            others = await (await browser.new_context()).new_page()
            await others.goto(f"{base}/")
            await _write(others, "My bin was not collected this week", "Tom")
            others = await (await browser.new_context()).new_page()
            await others.goto(f"{base}/")
            await _write(others, "The swings in the playground are broken")

            citizen = await (await browser.new_context(viewport={"width": 720, "height": 900})).new_page()
            await citizen.goto(f"{base}/")
            reference = await _write(citizen, "The street light on Mill Lane has been out for a week.", "Ada")

            desk = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            await _sign_in(desk, base)
            await expect(desk.get_by_role("link", name=reference)).to_be_visible()
            await desk.get_by_role("link", name=reference).click()
            await desk.get_by_role("button", name="Claim (I handle it)").click()
            await desk.goto(f"{base}/desk")
            await expect(desk.get_by_role("link", name=reference)).to_be_visible()
            await desk.screenshot(path=OUT / "desk-list.png")
            await _phone_and_widget(browser, base)
            await desk.get_by_role("link", name=reference).click()
            await desk.get_by_label("Internal note").fill("Lamp post 14; crew already booked for Mill Lane.")
            await desk.get_by_role("button", name="Save note").click()
            await desk.get_by_label("Reply to the citizen").fill(
                "Thank you, Ada. A crew will repair the light on Monday morning."
            )
            await desk.get_by_role("button", name="Send reply").click()
            await expect(desk.locator(".msg-staff .delivered")).to_be_visible()
            await expect(citizen.locator(".msg-staff")).to_be_visible()
            await citizen.get_by_label("Your message").fill("Great, thanks!")
            await citizen.screenshot(path=OUT / "webchat.png", full_page=True)
            await citizen.get_by_label("Your message").fill("new")  # the chat command: the next message opens a case
            await citizen.get_by_role("button", name="Send").click()
            await expect(citizen.locator("#case-status")).to_contain_text("closed")
            await citizen.get_by_label("Your message").fill("Also, the bus stop sign on Mill Lane has fallen over.")
            await citizen.get_by_role("button", name="Send").click()
            await expect(citizen.locator("#case-status")).not_to_contain_text(reference)
            later = (await citizen.locator("#case-status").text_content() or "").split()[1]
            await desk.reload()
            await expect(desk.get_by_role("link", name=later)).to_be_visible()  # the citizen's other case, beside
            await desk.screenshot(path=OUT / "desk.png", full_page=True)
            await browser.close()
    sys.stdout.write(f"saved webchat.png, desk.png, desk-list.png, desk-inbox-phone.png and widget.png in {OUT}\n")


if __name__ == "__main__":
    asyncio.run(main())
