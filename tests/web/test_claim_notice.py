"""What the citizen learns when a desk officer claims their case: a display name, never a login name."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from bot.departments import Directory
from bot.storage.store import Store
from tests.fakes import FakeClock
from tests.web.harness import DESK_DIRECTORY, Browser, Web, running_web

SIGNING = Directory(
    departments=tuple(
        replace(d, sign_with_officer_name=True) if d.key == "roads" else d for d in DESK_DIRECTORY.departments
    ),
    fallback=DESK_DIRECTORY.fallback,
)


async def _sign_in(browser: Browser, username: str) -> None:
    html = await (await browser.client.get("/desk/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "next": "/desk", "username": username, "password": "correct horse battery"}
    response = await browser.client.post("/desk/login", data=form, allow_redirects=False)
    assert response.status == 303


async def _claimed_notice(running: Web) -> str:
    """Grace Hopper (login ``grace.hopper``) claims a new roads case; the citizen's last chat line."""
    running.users.add("grace.hopper", "correct horse battery", None, name="Grace Hopper")
    citizen = await running.browser()
    await citizen.open_chat()
    await citizen.say("There is a pothole on Mill Lane")
    await running.bridge.settle()
    reference = str((await citizen.history())["case"]["reference"])
    staff = await running.browser()
    await _sign_in(staff, "grace.hopper")
    await staff.desk_post(reference, do="claim")
    await running.bridge.settle()
    return (await citizen.texts())[-1]


async def test_claim_names_the_officer_by_first_name_where_the_department_signs(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """In a department that signs with the officer's name, the citizen reads the display name's first word."""
    async with running_web(store, clock, tmp_path, directory=SIGNING) as running:
        notice = await _claimed_notice(running)
    assert notice.startswith("Grace of Roads & Transport is now handling your case")


async def test_claim_names_only_the_department_where_it_does_not_sign(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """In a department that does not sign with names, the citizen reads "An officer of …", never a login name."""
    async with running_web(store, clock, tmp_path) as running:
        notice = await _claimed_notice(running)
    assert notice.startswith("An officer of Roads & Transport is now handling your case")
    assert "grace" not in notice.casefold()


async def test_claim_notice_is_in_the_citizens_language(web_bridge: Web, staff: Browser) -> None:
    """A Spanish-speaking citizen reads the unnamed-officer claim notice in Spanish."""
    citizen = await web_bridge.browser()
    citizen.client.session.headers["Accept-Language"] = "es"
    await citizen.open_chat()
    await citizen.say("language es")
    await citizen.say("Hay un bache en la calle Mill Lane pothole")
    await web_bridge.bridge.settle()
    reference = str((await citizen.history())["case"]["reference"])
    await staff.desk_post(reference, do="claim")
    await web_bridge.bridge.settle()
    notice = (await citizen.texts())[-1]
    assert "Roads & Transport" in notice or "Carreteras" in notice
    assert "An officer" not in notice
    assert "Staff" not in notice
