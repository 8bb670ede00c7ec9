"""Live updates across processes: a citizen on one bridge process and the desk on another hear each other live.

Two real ``civic-bridge run`` processes share a private PostgreSQL database;
their departments answer on the web desk. The citizen's chat page streams from
process A, the desk's page from process B; neither reloads.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.reliability.harness import free_port, private_database
from tests.waiting import eventually
from tests.web.sse import DEADLINE

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROUTING = """\
fallback: general
departments:
  - key: roads
    name: Roads & Transport
    desk: web
    keywords: [pothole]
  - key: general
    name: Citizen Services
    desk: web
"""
LINK = re.compile(r"(http://\S+/desk/sign-in/[A-Za-z0-9_-]{43})")
ROUNDS = 3


@dataclass
class Process:
    """One bridge process, its base URL and its log."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def sign_in_link(self) -> str | None:
        """The one-time desk link this process printed, once it has."""
        found = LINK.search(self.log.read_text(errors="replace")) if self.log.exists() else None
        return found.group(1) if found else None


def _start(folder: Path, name: str, database_url: str, routing: Path) -> Process:
    """Start one ``civic-bridge run`` on the shared database, with no desk users (it prints a sign-in link)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env |= {
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_ROUTING_FILE": str(routing),
        "BRIDGE_HTTP_PORT": str(port),
        "BRIDGE_DESK_USERS_FILE": str(folder / "desk-users.json"),
        "PYTHONUNBUFFERED": "1",
    }
    log = folder / f"bridge-{name}.log"
    with log.open("wb") as output:
        command = [sys.executable, "-m", "bot", "run"]
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=output, stderr=output)  # noqa: S603  # ours
    return Process(process, f"http://127.0.0.1:{port}", log)


def _has_link(bridge: Process) -> bool:
    return bridge.sign_in_link() is not None


@asynccontextmanager
async def two_processes(folder: Path) -> AsyncIterator[tuple[Process, Process]]:
    """Two bridge processes on one private PostgreSQL database, up and answering."""
    routing = folder / "routing.yaml"
    routing.write_text(ROUTING)
    async with private_database() as database_url:
        started: list[Process] = []
        try:
            started.extend(_start(folder, name, database_url, routing) for name in ("a", "b"))
            for bridge in started:
                await eventually(partial(_has_link, bridge), timeout=60, what=f"{bridge.base} up")
            yield started[0], started[1]
        finally:
            for bridge in started:
                bridge.process.terminate()
            for bridge in started:
                await asyncio.to_thread(bridge.process.wait, 30)


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _events(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """The stream's ``data:`` events, each within the deadline."""
    while True:
        line = await asyncio.wait_for(response.content.readline(), timeout=DEADLINE)
        if not line:
            return
        if line.startswith(b"data: "):
            yield json.loads(line[len(b"data: ") :])


async def _until(stream: AsyncIterator[dict[str, Any]], wanted: Any) -> dict[str, Any]:  # a predicate
    async for event in stream:
        if wanted(event):
            return dict(event)
    raise AssertionError("the event stream ended")


async def _connected(response: aiohttp.ClientResponse) -> None:
    while not (await asyncio.wait_for(response.content.readline(), timeout=DEADLINE)).startswith(b": connected"):
        pass


async def test_citizen_and_desk_on_different_processes_hear_each_other_live(tmp_path: Path) -> None:
    """Citizen on process A, desk on process B: each message and each reply arrives live, both ways."""
    async with two_processes(tmp_path) as (a, b), _browser() as citizen, _browser() as staff:
        link = b.sign_in_link()
        assert link is not None
        async with staff.get(link, allow_redirects=False) as signed_in:
            assert signed_in.status == 303
        await (await citizen.get(a.base + "/")).read()
        csrf = (await (await citizen.get(a.base + "/chat/history")).json())["csrf"]
        chat_stream = await citizen.get(a.base + "/chat/events")
        desk_stream = await staff.get(b.base + "/desk/events")
        await _connected(chat_stream)
        await _connected(desk_stream)
        chat_events, desk_events = _events(chat_stream), _events(desk_stream)
        heard_by_desk, heard_by_citizen = 0, 0
        reference = None
        for number in range(ROUNDS):
            message = {"event_id": str(uuid.uuid4()), "text": f"pothole report number {number}"}
            headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
            async with citizen.post(a.base + "/chat/send", data=json.dumps(message), headers=headers) as sent:
                assert sent.status == 200
            event = await _until(desk_events, lambda e: e.get("type") == "case")
            reference = reference or event["reference"]
            heard_by_desk += event["reference"] == reference
            page = await (await staff.get(f"{b.base}/desk/case/{reference}")).text()
            form_csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            event_id = re.search(r'name="event_id" value="([^"]+)"', page)
            assert form_csrf is not None
            assert event_id is not None
            reply = f"We are on it, answer {number}"
            form = {"csrf": form_csrf.group(1), "event_id": event_id.group(1), "do": "reply", "text": reply}
            async with staff.post(f"{b.base}/desk/case/{reference}", data=form, allow_redirects=False) as answered:
                assert answered.status == 303
            arrived = await _until(chat_events, lambda e, r=reply: e.get("item", {}).get("text") == r)
            heard_by_citizen += arrived["item"]["signature"] == "Roads & Transport"
        chat_stream.close()
        desk_stream.close()
        assert (heard_by_desk, heard_by_citizen) == (ROUNDS, ROUNDS)
