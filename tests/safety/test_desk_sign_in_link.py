"""``civic-bridge run`` with no desk users prints a one-time desk sign-in link; live streams are capped.

Real processes on a temporary SQLite database, driven over HTTP as a browser would.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.safety.process import free_port, start, stop, wait_healthy

pytestmark = pytest.mark.slow

LINK = re.compile(r"(http://\S+/desk/sign-in/[A-Za-z0-9_-]{43})")
#: The link must be among the first lines the bridge logs.
FIRST_LINES = 10


async def _link_from(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    """Read the bridge's first log lines until the sign-in link; the link and the lines read."""
    assert process.stdout is not None
    lines: list[str] = []
    while len(lines) < FIRST_LINES:
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=60)
        if not line:
            break
        lines.append(line)
        if found := LINK.search(line):
            return found.group(1), lines
    raise AssertionError("no sign-in link in the first log lines:\n" + "".join(lines))


@asynccontextmanager
async def _bridge(tmp_path: Path, port: int, **env: str) -> AsyncIterator[tuple[subprocess.Popen[str], str]]:
    process = start(tmp_path, port, **env)
    try:
        link, _lines = await _link_from(process)
        await asyncio.to_thread(wait_healthy, port)
        yield process, link
    finally:
        await asyncio.to_thread(stop, process)


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_run_prints_a_sign_in_link_that_opens_the_desk_once(tmp_path: Path) -> None:
    """The printed link signs a browser in to the desk; the same link in another browser is refused."""
    port = free_port()
    async with _bridge(tmp_path, port) as (_process, link):
        assert link.startswith(f"http://127.0.0.1:{port}/desk/sign-in/")
        async with _browser() as first, _browser() as second:
            async with first.get(link, allow_redirects=False) as response:
                assert response.status == 303
            async with first.get(f"http://127.0.0.1:{port}/desk", allow_redirects=False) as response:
                assert response.status == 200
            async with second.get(link, allow_redirects=False) as response:
                assert response.status == 403


async def test_each_start_prints_a_new_link_and_a_stranger_is_asked_to_sign_in(tmp_path: Path) -> None:
    """A restart prints a different link; without it the desk sends the browser to its sign-in page."""
    port = free_port()
    async with _bridge(tmp_path, port) as (_process, first_link):
        pass
    async with _bridge(tmp_path, port) as (_process, second_link), _browser() as stranger:
        assert second_link != first_link
        async with stranger.get(f"http://127.0.0.1:{port}/desk", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"].startswith("/desk/login")


async def test_healthz_answers_while_the_stream_cap_turns_pages_away(tmp_path: Path) -> None:
    """With the process's stream cap reached, more streams get 503 at once and /healthz still answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with _bridge(tmp_path, port, BRIDGE_LIVE_STREAMS_TOTAL="3") as _running:
        sessions = [_browser() for _ in range(5)]
        streams: list[aiohttp.ClientResponse] = []
        try:
            statuses = []
            for session in sessions:
                await (await session.get(base + "/")).read()
                response = await asyncio.wait_for(session.get(base + "/chat/events"), timeout=10)
                statuses.append(response.status)
                streams.append(response)
            assert statuses == [200, 200, 200, 503, 503]
            async with aiohttp.ClientSession() as monitor, asyncio.timeout(5), monitor.get(base + "/healthz") as health:
                assert health.status == 200
        finally:
            for response in streams:
                response.close()
            for session in sessions:
                await session.close()
