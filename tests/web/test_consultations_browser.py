"""The desk's Consultations page in a real browser (Debian's headless Chromium): create, chart, live results, CSV."""

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
from bot.consultations.live_results import ResultsPreparation
from bot.consultations.publishing import StaffConsultations
from bot.consultations.service import ConsultationService
from bot.desk_users import DeskUsers
from bot.live import LocalLiveEvents
from bot.model import TELEGRAM, Address
from bot.sessions import issue_sign_in_link
from bot.storage.store import Store
from bot.storage.views import StoreViews
from bot.storage.web_sessions import StoreSessions
from tests.backends import open_store
from tests.bridge import Bridge, build_bridge
from tests.consultations.helpers import subscribe
from tests.web.harness import DESK_DIRECTORY
from tests.web.test_browser import _require_chromium, chromium

pytestmark = pytest.mark.browser


@asynccontextmanager
async def served_desk(store: Store, tmp_path: Path) -> AsyncIterator[tuple[str, Bridge]]:
    """The desk with its Consultations pages on a real server, and the bridge (worker running) behind it."""
    live = LocalLiveEvents()
    holder: list[Bridge] = []
    service = ConsultationService(
        store=store,
        directory=DESK_DIRECTORY,
        on_queued=lambda: holder[0].worker.wake(),  # noqa: PLW0108  # the bridge is built below
    )
    desk = WebDesk(
        views=StoreViews(store=store),
        directory=DESK_DIRECTORY,
        users=DeskUsers(path=tmp_path / "desk-users.json"),
        sessions=StoreSessions(store=store),
        max_message_chars=8000,
        live=live,
        consultations=StaffConsultations(service=service, directory=DESK_DIRECTORY),
    )
    app = web.Application()
    app.router.add_get("/static/{name}", StaticFiles.load().handle)
    desk.mount(app)
    preparation = ResultsPreparation(store=store, results=service.results, live=live)
    async with build_bridge(
        store, store.now, department=[desk], directory=DESK_DIRECTORY, preparation=preparation
    ) as bridge:
        holder.append(bridge)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            async with bridge.worker:
                yield f"http://127.0.0.1:{runner.addresses[0][1]}", bridge
        finally:
            await runner.cleanup()


async def test_staff_run_a_consultation_from_the_desk_in_a_real_browser(tmp_path: Path) -> None:
    """Staff open Consultations, send a question, see its chart update live as a citizen answers, and get the CSV."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_desk(store, tmp_path) as (base, bridge):
        await subscribe(store, Address(TELEGRAM, "111"), "waste")
        async with chromium() as browser:
            page = await (await browser.new_context(accept_downloads=True)).new_page()
            link = await issue_sign_in_link(StoreSessions(store=store), base_url=base, lifetime=timedelta(hours=1))
            await page.goto(link)
            await page.get_by_role("link", name="Consultations").click()
            await expect(page.get_by_role("heading", name="Consultations and announcements")).to_be_visible()

            await page.get_by_label("Department").select_option("waste")
            await page.get_by_label("Question or notice").fill("Which street first?")
            await page.get_by_label("Options, one per line").fill("Mill Lane\nHigh Street")
            await page.get_by_role("button", name="Send to subscribers").click()
            await expect(page.get_by_role("heading", name="Consultation #1")).to_be_visible()
            chart = page.get_by_role("img", name="Answers per option")
            await expect(chart).to_be_visible()
            await expect(chart.locator("rect")).to_have_count(2)  # one bar per option
            await page.evaluate("window.notReloaded = true")

            await bridge.telegram.choose(user=111, choice="poll:1:2")
            bridge.worker.wake()
            await expect(page.locator("#answered")).to_have_text("Answers: 1")  # live, without a reload
            await expect(page.locator("#chart-results")).to_contain_text("2. High Street: 1")
            assert await page.evaluate("window.notReloaded") is True

            async with page.expect_download() as waiting:
                await page.get_by_role("link", name="Download CSV").click()
            download = await waiting.value
            assert download.suggested_filename == "consultation-1.csv"
            saved = tmp_path / "consultation.csv"
            await download.save_as(saved)
            assert "1,option,2,High Street,1" in saved.read_text(encoding="utf-8")
