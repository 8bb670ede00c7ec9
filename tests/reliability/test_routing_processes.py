"""Routing reloads across processes: two real bridge processes on PostgreSQL share one routing file.

An edit of the file reaches both (each watches it); ``SIGHUP`` with a broken file makes
both refuse it, say why in ``/healthz``, and keep routing by the file they had.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
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
import asyncpg
import pytest

from tests.core.test_routing_reload import BROKEN, ROADS_ONLY, WITH_WASTE
from tests.reliability.harness import free_port, private_database
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@dataclass
class Bridge:
    """One ``civic-bridge run`` process and its base URL."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    async def routing(self) -> dict[str, Any] | None:
        """The ``routing`` object of ``/healthz``, or None while the server is not up."""
        try:
            async with aiohttp.ClientSession() as client, client.get(self.base + "/healthz") as response:
                return dict((await response.json())["routing"])
        except aiohttp.ClientError:
            return None


def _start(folder: Path, name: str, database_url: str, routing: Path) -> Bridge:
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
    return Bridge(process, f"http://127.0.0.1:{port}", log)


async def _is_up(bridge: Bridge) -> bool:
    return await bridge.routing() is not None


@asynccontextmanager
async def two_bridges(folder: Path) -> AsyncIterator[tuple[str, Bridge, Bridge]]:
    """Two bridge processes on one private PostgreSQL database and one routing file (roads and general)."""
    routing = folder / "routing.yaml"
    routing.write_text(ROADS_ONLY, encoding="utf-8")
    async with private_database() as database_url:
        started: list[Bridge] = []
        try:
            started.extend(_start(folder, name, database_url, routing) for name in ("a", "b"))
            for bridge in started:
                await eventually(partial(_is_up, bridge), timeout=60, what=f"{bridge.base} up")
            yield database_url, started[0], started[1]
        finally:
            for bridge in started:
                bridge.process.terminate()
            for bridge in started:
                await asyncio.to_thread(bridge.process.wait, 30)


async def routed_to(bridge: Bridge, database_url: str, text: str) -> str | None:
    """A new citizen writes ``text`` in ``bridge``'s web chat; the department their case went to."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as citizen:
        await (await citizen.get(bridge.base + "/")).read()
        history = await (await citizen.get(bridge.base + "/chat/history")).json()
        message = {"event_id": str(uuid.uuid4()), "text": text}
        headers = {"X-CSRF-Token": history["csrf"], "Content-Type": "application/json"}
        async with citizen.post(bridge.base + "/chat/send", data=json.dumps(message), headers=headers) as sent:
            assert sent.status == 200, await sent.text()
        reference = (await (await citizen.get(bridge.base + "/chat/history")).json())["case"]["reference"]
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        department = await connection.fetchval("SELECT department FROM cases WHERE reference = $1", reference)
    finally:
        await connection.close()
    return None if department is None else str(department)


async def test_an_edited_routing_file_reaches_every_process(tmp_path: Path) -> None:
    """After the shared routing file gains a department, a message to either process is routed by the new file."""
    async with two_bridges(tmp_path) as (database_url, a, b):
        assert await routed_to(a, database_url, "My bin was not collected") == "general"
        before = [await bridge.routing() for bridge in (a, b)]
        (tmp_path / "routing.yaml").write_text(WITH_WASTE, encoding="utf-8")
        for bridge, status in zip((a, b), before, strict=True):
            assert status is not None
            loaded_at = str(status["loaded_at"])

            async def reloaded(bridge: Bridge = bridge, first: str = loaded_at) -> bool:
                now = await bridge.routing()
                return now is not None and now["loaded_at"] != first

            await eventually(reloaded, timeout=30, what=f"{bridge.base} loading the edited file")
        for bridge in (a, b):
            assert await routed_to(bridge, database_url, "My bin was not collected") == "waste"
            status = await bridge.routing()
            assert status is not None
            assert status["error"] is None


async def test_sighup_with_a_broken_file_is_refused_by_every_process(tmp_path: Path) -> None:
    """SIGHUP to both processes with a broken file: each says FILE:LINE in /healthz and keeps its routing."""
    async with two_bridges(tmp_path) as (database_url, a, b):
        routing = tmp_path / "routing.yaml"
        routing.write_text(BROKEN, encoding="utf-8")
        for bridge in (a, b):
            bridge.process.send_signal(signal.SIGHUP)
        for bridge in (a, b):

            async def refused(bridge: Bridge = bridge) -> bool:
                status = await bridge.routing()
                return status is not None and bool(status["error"])

            await eventually(refused, timeout=30, what=f"{bridge.base} refusing the broken file")
            status = await bridge.routing()
            assert status is not None
            assert any(line.startswith(f"{routing}:11:") for line in status["error"]), status["error"]
            assert await routed_to(bridge, database_url, "My bin was not collected") == "general"
            assert bridge.process.poll() is None
