"""The desk's Reports page in a real browser (Debian's headless Chromium): charts render, the form and CSV work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import expect

from adapters.web.desk import WebDesk
from adapters.web.static_files import StaticFiles
from bot.desk_users import DeskUsers
from bot.reports.queries import StoreReports
from bot.sessions import issue_sign_in_link
from bot.storage.store import Store
from bot.storage.views import StoreViews
from bot.storage.web_sessions import StoreSessions
from tests.backends import open_store
from tests.fakes import FakeClock
from tests.reports.seed import seed
from tests.web.harness import DESK_DIRECTORY
from tests.web.test_browser import _require_chromium, chromium

pytestmark = pytest.mark.browser


@asynccontextmanager
async def served_desk(store: Store, tmp_path: Path) -> AsyncIterator[str]:
    """The web desk with its reports (and the static files) on a real server at a free 127.0.0.1 port."""
    static = StaticFiles.load()
    desk = WebDesk(
        views=StoreViews(store=store),
        directory=DESK_DIRECTORY,
        users=DeskUsers(path=tmp_path / "desk-users.json"),
        sessions=StoreSessions(store=store),
        max_message_chars=8000,
        reports=StoreReports(store=store),
    )
    app = web.Application()
    app.router.add_get("/static/{name}", static.handle)
    desk.mount(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_admin_reads_reports_with_charts_in_a_real_browser(tmp_path: Path) -> None:
    """An admin opens Reports from the case list, picks the period, sees the charts, and downloads the CSV."""
    _require_chromium()
    async with (
        open_store("sqlite", tmp_path, clock=FakeClock()) as store,
        served_desk(store, tmp_path) as base,
        chromium() as browser,
    ):
        await seed(store)
        page = await (await browser.new_context(accept_downloads=True)).new_page()
        link = await issue_sign_in_link(StoreSessions(store=store), base_url=base, lifetime=timedelta(hours=1))
        await page.goto(link)
        await page.get_by_role("link", name="Reports").click()
        await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

        await page.get_by_role("textbox", name="From").fill("2026-01-01")
        await page.get_by_label("Until (first day not counted)").fill("2026-01-08")
        await page.get_by_role("button", name="Show").click()
        chart = page.get_by_role("img", name="First response time (wall-clock hours)")
        await expect(chart).to_be_visible()
        box = await chart.bounding_box()
        assert box is not None
        assert box["width"] > 300  # drawn, not collapsed
        roads = page.locator("#report-table tbody tr").first
        await expect(roads).to_contain_text("Roads & Transport")
        await expect(roads).to_contain_text("7.6")

        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Download CSV").click()
        download = await waiting.value
        assert download.suggested_filename == "civic-bridge-report-2026-01-01-2026-01-08.csv"
        saved = tmp_path / "report.csv"
        await download.save_as(saved)
        lines = saved.read_text(encoding="utf-8").splitlines()  # a small file, written already
        assert lines[0].startswith("department,name,opened,closed")
        assert lines[1].startswith("roads,Roads & Transport,5,3,3.0,7.6")
