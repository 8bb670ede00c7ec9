# ruff: noqa: INP001  # scripts/ holds runnable scripts, not a package
"""Takes the README's screenshots of the web chat and the web desk.

Runs the real bridge (``bot.app.App``) on a throwaway SQLite database with the
built-in example routing, plays a short conversation in Debian's headless
Chromium, and saves docs/screenshots/webchat.png, desk.png and desk-list.png.

    python scripts/screenshots.py            # needs /usr/bin/chromium (scripts/install-browser.sh)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402  # after the repository root is importable
from bot.sessions import issue_sign_in_link  # noqa: E402  # same
from bot.storage.web_sessions import StoreSessions  # noqa: E402  # same
from config.routing_file import EXAMPLE_ROUTING_PATH  # noqa: E402  # same
from config.settings import load_settings  # noqa: E402  # same
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  # same

OUT = ROOT / "docs" / "screenshots"


async def _write(page: Page, text: str, name: str = "") -> str:
    if name:
        await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Your message").fill(text)
    await page.get_by_role("button", name="Send").click()
    status = page.locator("#case-status")
    await expect(status).to_contain_text("Case CB-")
    words = (await status.text_content() or "").split()
    return words[1]


async def main() -> None:
    """Run the bridge, play the conversation, save the pictures."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        settings = load_settings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'bridge.db'}",
            http_host="127.0.0.1",
            http_port=0,
            routing_file=EXAMPLE_ROUTING_PATH,
            desk_users_file=tmp / "desk-users.json",
            log_level="WARNING",
        )
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

            desk = await (await browser.new_context(viewport={"width": 1200, "height": 900})).new_page()
            assert app.store is not None  # noqa: S101  # the app is running, so its store is open
            sessions = StoreSessions(store=app.store)
            await desk.goto(await issue_sign_in_link(sessions, base_url=base, lifetime=timedelta(hours=1)))
            await expect(desk.get_by_role("link", name=reference)).to_be_visible()
            await desk.screenshot(path=OUT / "desk-list.png", full_page=True)
            await desk.get_by_role("link", name=reference).click()
            await desk.get_by_role("button", name="Claim (I handle it)").click()
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
            await desk.reload()
            await desk.screenshot(path=OUT / "desk.png", full_page=True)
            await browser.close()
    sys.stdout.write(f"saved {OUT / 'webchat.png'}, {OUT / 'desk.png'} and {OUT / 'desk-list.png'}\n")


if __name__ == "__main__":
    asyncio.run(main())
