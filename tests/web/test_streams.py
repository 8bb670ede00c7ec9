"""Live-update streams are capped per session, per client address and in total; over a cap the answer is quick."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import ClientResponse

from adapters.web.live import StreamCaps
from bot.client_address import TrustedProxies
from bot.storage.store import Store
from tests.fakes import FakeClock
from tests.waiting import eventually
from tests.web.harness import Browser, Web, running_web
from tests.web.sse import DEADLINE, connected


async def _stream(browser: Browser, path: str = "/chat/events", **headers: str) -> ClientResponse:
    response = await asyncio.wait_for(browser.client.get(path, headers=headers), timeout=DEADLINE)
    if response.status == 200:
        await connected(response)
    return response


async def _citizen(running: Web) -> Browser:
    browser = await running.browser()
    await browser.open_chat()
    return browser


async def test_chat_streams_over_the_session_cap_get_429(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """One chat session may hold the configured number of streams; the next is refused with 429 at once."""
    async with running_web(store, clock, tmp_path, caps=StreamCaps(per_session=2)) as running:
        citizen = await _citizen(running)
        statuses = [(await _stream(citizen)).status for _ in range(3)]
        assert statuses == [200, 200, 429]


async def test_streams_over_the_address_cap_get_429(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Many sessions from one address share one cap on open streams."""
    caps = StreamCaps(per_session=5, per_address=3)
    async with running_web(store, clock, tmp_path, caps=caps) as running:
        statuses = [(await _stream(await _citizen(running))).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


async def test_streams_over_the_total_cap_get_503(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """Past the process's total of open streams every further stream gets 503, whoever asks."""
    caps = StreamCaps(per_session=5, per_address=5, total=2)
    trusted = TrustedProxies.parse("127.0.0.1")
    async with running_web(store, clock, tmp_path, caps=caps, trusted_proxies=trusted) as running:
        statuses = []
        for n in range(3):
            browser = await running.browser()
            await browser.client.get("/", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            statuses.append((await _stream(browser, **{"X-Forwarded-For": f"203.0.113.{n}"})).status)
        assert statuses == [200, 200, 503]


async def test_desk_streams_count_against_the_caps(web_bridge: Web, staff: Browser) -> None:
    """The desk's live stream is capped like the chat's (the default cap is 5 a session)."""
    statuses = [(await _stream(staff, "/desk/events")).status for _ in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_a_closed_stream_frees_its_place(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    """When a page closes its stream, the session may open another."""
    async with running_web(store, clock, tmp_path, caps=StreamCaps(per_session=1)) as running:
        citizen = await _citizen(running)
        first = await _stream(citizen)
        first.close()

        async def reopened() -> bool:
            return (await _stream(citizen)).status == 200

        await eventually(reopened, what="a new stream once the first closed")
