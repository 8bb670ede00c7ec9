"""Routing changes without a restart: a running bridge reloads its routing file when it changes, and on SIGHUP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from itertools import count
from pathlib import Path

import aiohttp

from bot.app import App
from bot.events import CitizenMessage, Sender
from bot.model import WEB, Address
from bot.sessions import issue_sign_in_link
from bot.storage.web_sessions import StoreSessions
from config.settings import Settings
from tests.core.test_cli import _env, _free_port, _healthz
from tests.waiting import eventually

ROADS_ONLY = """\
fallback: general
departments:
  - key: roads
    name: Roads
    desk: web
    keywords: [pothole]
  - key: general
    name: Citizen Services
    desk: web
"""
WASTE = """\
  - key: waste
    name: Waste
    desk: web
    keywords: [bin, rubbish]
"""
WITH_WASTE = ROADS_ONLY.replace("  - key: general\n", WASTE + "  - key: general\n")
#: WITH_WASTE with a key the schema does not know, on line 11.
BROKEN = WITH_WASTE.replace("    keywords: [bin, rubbish]\n", "    keywords: [bin, rubbish]\n    colour: green\n")

_citizens = count(1)


@asynccontextmanager
async def running_app(tmp_path: Path) -> AsyncIterator[App]:
    """The bridge on the web chat and desk only, routing from ``routing.yaml`` (roads and general)."""
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROADS_ONLY, encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
        routing_file=routing,
        http_port=0,
        desk_users_file=tmp_path / "desk-users.json",
        telegram_token=None,
        slack_bot_token=None,
        discord_token=None,
    )
    async with App(settings=settings) as app:
        yield app


async def department_of_first_message(app: App, text: str) -> str | None:
    """Where a new web-chat citizen's first message ``text`` was routed."""
    assert app.relay is not None
    assert app.store is not None
    number = next(_citizens)
    chat = Address(WEB, f"reload-{number}")
    sender = Sender(WEB, f"reload-{number}", "Ada Citizen")
    await app.relay.accept(CitizenMessage(event_id=f"reload-{number}", sender=sender, chat=chat, text=text))
    case = await app.store.read(lambda tx: tx.active_case(chat))
    assert case is not None
    return case.department


async def routing_health(app: App) -> dict[str, object]:
    """The ``routing`` object of ``/healthz``."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{app.port}/healthz") as response:
        body = await response.json()
    return dict(body["routing"])


async def test_changed_routing_file_routes_new_messages_by_the_new_rule(tmp_path: Path) -> None:
    """Saving a routing file with a new department sends the next matching message there, without a restart."""
    async with running_app(tmp_path) as app:
        (tmp_path / "routing.yaml").write_text(WITH_WASTE, encoding="utf-8")
        await eventually(lambda: app.relay is not None and app.relay.directory.get("waste") is not None, what="reload")
        assert await department_of_first_message(app, "My bin was not collected this week") == "waste"


async def test_desk_lists_a_department_added_by_a_reload(tmp_path: Path) -> None:
    """The web desk reads the same departments as the relay: a department added to the file appears on it."""
    async with (
        running_app(tmp_path) as app,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        assert app.store is not None
        base = f"http://127.0.0.1:{app.port}"
        link = await issue_sign_in_link(StoreSessions(store=app.store), base_url=base, lifetime=timedelta(hours=1))
        async with session.get(link) as signed_in:
            assert signed_in.status == 200
        (tmp_path / "routing.yaml").write_text(WITH_WASTE, encoding="utf-8")

        async def listed() -> bool:
            async with session.get(f"{base}/desk") as response:
                return 'data-department="waste"' in await response.text()  # the inbox's department filter

        await eventually(listed, what="the waste department on the desk")


async def test_invalid_routing_file_shows_its_problems_in_healthz(tmp_path: Path) -> None:
    """A routing file saved with a mistake is refused, and /healthz names the file and line."""
    async with running_app(tmp_path) as app:
        (tmp_path / "routing.yaml").write_text(BROKEN, encoding="utf-8")

        async def refused() -> bool:
            return (await routing_health(app))["error"] is not None

        await eventually(refused, what="the refusal in /healthz")
        errors = (await routing_health(app))["error"]
        assert isinstance(errors, list)
        assert errors[0].startswith(f"{tmp_path / 'routing.yaml'}:11: ")
        assert "colour" in errors[0]


async def test_invalid_routing_file_leaves_the_old_routing_in_force(tmp_path: Path) -> None:
    """While a broken routing file is refused, messages still route by the rules loaded before."""
    async with running_app(tmp_path) as app:
        assert app.routing is not None
        routing = app.routing
        (tmp_path / "routing.yaml").write_text(BROKEN, encoding="utf-8")
        await eventually(lambda: bool(routing.status().error), what="the refusal")
        assert await department_of_first_message(app, "There is a pothole on my street") == "roads"
        assert await department_of_first_message(app, "My bin was not collected this week") != "waste"


async def test_fixing_the_file_clears_the_error_in_healthz(tmp_path: Path) -> None:
    """Once the mistake is fixed the new routing loads and /healthz no longer reports an error."""
    async with running_app(tmp_path) as app:
        assert app.routing is not None
        routing = app.routing
        path = tmp_path / "routing.yaml"
        path.write_text(BROKEN, encoding="utf-8")
        await eventually(lambda: bool(routing.status().error), what="the refusal")
        path.write_text(WITH_WASTE, encoding="utf-8")
        await eventually(lambda: not routing.status().error, what="the fixed file loading")
        assert (await routing_health(app))["error"] is None


def _routing_of(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        return dict(json.load(response)["routing"])


def test_sighup_reloads_the_routing_file_of_a_running_process(tmp_path: Path) -> None:
    """``kill -HUP`` on ``civic-bridge run`` loads the routing file again: /healthz shows the new load time."""
    (tmp_path / "routing.yaml").write_text(ROADS_ONLY, encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=_env(tmp_path, BRIDGE_HTTP_PORT=str(port), BRIDGE_ROUTING_FILE="routing.yaml"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _healthz(port)
        first = _routing_of(port)["loaded_at"]
        deadline = time.monotonic() + 30
        # loaded_at counts whole seconds: signal until a reload lands in a later second.
        while _routing_of(port)["loaded_at"] == first:
            assert time.monotonic() < deadline, "SIGHUP did not reload the routing file"
            process.send_signal(signal.SIGHUP)
            time.sleep(0.2)
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "routing reloaded from routing.yaml" in output
