"""The rating after close in a real browser: the chat shows live buttons 1-5, a press rates and disables them."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.departments import Directory
from bot.sessions import issue_sign_in_link
from bot.storage.web_sessions import StoreSessions
from tests.backends import open_store
from tests.web.harness import DESK_DIRECTORY
from tests.web.test_browser import _case_reference, _require_chromium, chromium, served_bridge

pytestmark = pytest.mark.browser

RATING_DIRECTORY = Directory(
    departments=tuple(replace(d, ask_rating=d.key == "roads") for d in DESK_DIRECTORY.departments),
    fallback=DESK_DIRECTORY.fallback,
)


async def test_citizen_rates_a_closed_case_with_a_button(tmp_path: Path) -> None:
    """Staff close on the desk; the chat shows the question live, and pressing 4 thanks the citizen."""
    _require_chromium()
    async with (
        open_store("sqlite", tmp_path) as store,
        served_bridge(store, tmp_path, RATING_DIRECTORY) as base,
        chromium() as browser,
    ):
        citizen = await (await browser.new_context()).new_page()
        await citizen.goto(f"{base}/")
        await citizen.get_by_label("Your message").fill("There is a pothole on Mill Lane")
        await citizen.get_by_role("button", name="Send").click()
        reference = await _case_reference(citizen)
        desk = await (await browser.new_context()).new_page()
        await desk.goto(
            await issue_sign_in_link(StoreSessions(store=store), base_url=base, lifetime=timedelta(hours=1))
        )
        await desk.goto(f"{base}/desk/case/{reference}")
        await desk.get_by_role("button", name="Close case").click()

        question = citizen.locator(".msg-bridge").filter(has_text="How satisfied")
        await expect(question.get_by_role("button", name="4")).to_be_enabled()
        if screenshot := os.environ.get("BRIDGE_RATING_SCREENSHOT"):
            await citizen.screenshot(path=screenshot, full_page=True)
        await question.get_by_role("button", name="4").click()
        await expect(citizen.locator(".msg-bridge").last).to_contain_text("(4 out of 5)")
        await expect(question.get_by_role("button", name="5")).to_be_disabled()
        await desk.reload()
        await expect(desk.locator("#rating")).to_have_text("4 out of 5")
