# ruff: noqa: INP001  # scripts/ holds runnable scripts, not a package
"""Takes the README's screenshot of the desk's Reports page (docs/screenshots/reports.png).

Writes four weeks of made-up cases (fixed seed: the same picture every run) into a throwaway SQLite
database, runs the real bridge (``bot.app.App``) on it with the built-in example routing, signs in
to the desk with the one-time link (an admin) and photographs the Reports page in headless Chromium.

    python scripts/screenshot_reports.py     # needs /usr/bin/chromium (scripts/install-browser.sh)
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402  # after the repository root is importable
from bot.sessions import issue_sign_in_link  # noqa: E402  # same
from bot.storage.migrate import upgrade  # noqa: E402  # same
from bot.storage.store import Store, Tx  # noqa: E402  # same
from bot.storage.web_sessions import StoreSessions  # noqa: E402  # same
from config.routing_file import EXAMPLE_ROUTING_PATH  # noqa: E402  # same
from config.settings import load_settings  # noqa: E402  # same
from tests.reports.seed import Seeder  # noqa: E402  # same
from tests.web.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  # same

OUT = ROOT / "docs" / "screenshots"
#: Department key, how many cases, typical hours to the first answer.
DEPARTMENTS = (("roads", 34, 3.0), ("waste", 41, 1.5), ("housing", 17, 8.0), ("parks", 9, 5.0), ("general", 22, 2.0))
LANGUAGES = ("en",) * 12 + ("pl", "pl", "ar", "uk", "es", "de", "tr")
PLATFORMS = ("telegram",) * 5 + ("web",) * 4 + ("discord",) * 2


async def _demo(store: Store) -> None:
    pick = random.Random(17)  # noqa: S311  # made-up figures, not security
    now = datetime.now(UTC)

    async def work(tx: Tx) -> None:
        s = Seeder(tx)
        for key, count, typical in DEPARTMENTS:
            for _ in range(count):
                opened = now - timedelta(days=pick.uniform(1, 27), hours=pick.uniform(0, 10))
                answer = opened + timedelta(hours=pick.expovariate(1 / typical))
                closed = answer + timedelta(hours=pick.expovariate(1 / 20))
                done = closed < now and pick.random() < 0.8  # noqa: PLR2004  # most cases are closed
                case_id, reference = await s.case(
                    key,
                    opened=opened,
                    platform=pick.choice(PLATFORMS),
                    status="closed" if done else "open",
                    updated=closed if done else answer,
                    due=opened + timedelta(hours=typical * 1.5),
                    citizen_language=pick.choice(LANGUAGES),
                )
                await s.message(case_id, "citizen", opened)
                if answer < now:
                    await s.message(case_id, "staff", answer)
                if done:
                    await s.audit(reference, "close", closed)
                if pick.random() < 0.08:  # noqa: PLR2004  # a few misroutes
                    await s.label(case_id, key, "transfer")
                elif pick.random() < 0.1:  # noqa: PLR2004  # a few menu choices
                    await s.label(case_id, key, "menu")

    await store.atomic(work)


async def main() -> None:
    """Write the demo cases, run the bridge, save the picture."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite+aiosqlite:///{tmp / 'bridge.db'}"
        store = Store.open(url)
        await upgrade(store.engine)
        await _demo(store)
        await store.close()
        settings = load_settings(
            database_url=url,
            http_host="127.0.0.1",
            http_port=0,
            routing_file=EXAMPLE_ROUTING_PATH,
            desk_users_file=tmp / "desk-users.json",
            log_level="WARNING",
        )
        async with App(settings=settings) as app, async_playwright() as playwright:
            base = f"http://127.0.0.1:{app.port}"
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            desk = await (await browser.new_context(viewport={"width": 1200, "height": 900})).new_page()
            assert app.store is not None  # noqa: S101  # the app is running, so its store is open
            sessions = StoreSessions(store=app.store)
            await desk.goto(await issue_sign_in_link(sessions, base_url=base, lifetime=timedelta(hours=1)))
            await desk.get_by_role("link", name="Reports").click()
            await expect(desk.get_by_role("img", name="Cases opened and closed")).to_be_visible()
            await desk.screenshot(path=OUT / "reports.png", full_page=True)
            await browser.close()
    sys.stdout.write(f"saved {OUT / 'reports.png'}\n")


if __name__ == "__main__":
    asyncio.run(main())
