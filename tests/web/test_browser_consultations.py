"""A consultation in a real browser: its buttons answer, and stay usable so the answer can be changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.consultations.service import ConsultationService
from tests.backends import open_store
from tests.web.harness import DESK_DIRECTORY
from tests.web.test_browser import _require_chromium, chromium, served_bridge

pytestmark = pytest.mark.browser


async def test_consultation_buttons_answer_and_allow_a_change(tmp_path: Path) -> None:
    """The citizen subscribes by typing, presses one option's button, then another: the second answer counts."""
    _require_chromium()
    async with open_store("sqlite", tmp_path) as store, served_bridge(store, tmp_path) as base, chromium() as browser:
        citizen = await (await browser.new_context()).new_page()
        await citizen.goto(f"{base}/")
        await citizen.get_by_label("Your message").fill("subscribe roads")
        await citizen.get_by_role("button", name="Send").click()
        await expect(citizen.locator(".msg-bridge").last).to_contain_text("You follow")
        service = ConsultationService(store=store, directory=DESK_DIRECTORY)
        created = await service.create_consultation(
            department="roads", question="Which street first?", options=["Mill Lane", "High Street"], actor="test"
        )
        await citizen.get_by_role("button", name="High Street").click()
        await expect(citizen.locator(".msg-bridge").last).to_contain_text("recorded: 2. High Street")
        await citizen.get_by_role("button", name="Mill Lane").click()
        await expect(citizen.locator(".msg-bridge").last).to_contain_text("recorded: 1. Mill Lane")
        results = await service.results(created.id)
        assert [c.count for c in results.counts] == [1, 0]
