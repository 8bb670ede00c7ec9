"""The bridge's HTTP server as the internet sees it: body limits, /metrics behind a proxy, the embedded chat cookie.

The whole ``App`` runs in-process on a loopback port, with Telegram (webhook mode)
and Slack (Events API) pointed at their emulators.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from adapters.slack.signature import sign
from bot.app import App
from config.settings import Settings
from tests.emulators.slack import BOT_TOKEN, SIGNING_SECRET, SlackEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

WEBHOOK_SECRET = "s3cret_webhook-token"  # noqa: S105  # a made-up secret for the test
TWO_MIB = 2 * 1024 * 1024


@asynccontextmanager
async def running_app(tmp_path: Path, **settings: Any) -> AsyncIterator[str]:
    """The whole bridge on a free loopback port with Telegram and Slack emulated; yields its base URL."""
    async with SlackEmulator(channels=("C0ROADS",)) as slack, TelegramEmulator() as telegram:
        configured = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
            http_port=0,
            desk_users_file=tmp_path / "desk-users.json",
            telegram_token=SecretStr(telegram.token),
            telegram_api_url=telegram.api_url,
            telegram_webhook_url="https://bridge.example.gov/telegram/webhook",
            telegram_webhook_secret=SecretStr(WEBHOOK_SECRET),
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=slack.api_url,
            **settings,
        )
        async with App(settings=configured) as app:
            assert app.relay is not None
            await eventually(lambda: all(a.health() == "up" for a in app.channels), what="every adapter up")
            yield f"http://127.0.0.1:{app.port}"


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    """The bridge with default settings."""
    async with running_app(tmp_path) as url:
        yield url


def slack_headers(body: bytes, *, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Headers that sign ``body`` as Slack would, now."""
    stamp = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sign(secret, stamp, body)}


async def answer_to_headers_only(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, float]:
    """Send a POST's head announcing 2 MiB, but not the body; the status the server answers and how fast."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {TWO_MIB}", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
    return int(status_line.split()[1]), time.monotonic() - started


# --- body limits ------------------------------------------------------------------------------


async def test_two_mib_to_telegram_webhook_is_refused_before_the_body_is_read(base_url: str) -> None:
    """A 2 MiB webhook post gets 413 as soon as its head arrives, with the right secret or not."""
    status, seconds = await answer_to_headers_only(
        base_url, "/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    )
    assert status == 413
    assert seconds < 2


async def test_two_mib_to_slack_events_is_refused_before_the_body_is_read(base_url: str) -> None:
    """A 2 MiB Slack post with fresh signature headers gets 413 as soon as its head arrives."""
    status, seconds = await answer_to_headers_only(base_url, "/slack/events", slack_headers(b""))
    assert status == 413
    assert seconds < 2


async def chat_session(session: aiohttp.ClientSession, base_url: str) -> dict[str, str]:
    """Open the chat page as a citizen's browser does; the headers a chat POST needs."""
    await (await session.get(base_url + "/")).read()
    async with session.get(base_url + "/chat/history") as response:
        csrf = (await response.json())["csrf"]
    return {"X-CSRF-Token": csrf, "Content-Type": "application/json"}


async def chunked_post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` in 64 KiB chunks without a Content-Length; the status (413 if the server cut the upload off)."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    try:
        async with session.post(url, data=chunks(), headers=headers) as response:
            return response.status
    except aiohttp.ClientOSError:
        return 413  # the server answered and closed while the rest of the body was still being sent


BIG_JSON = b'{"event_id": "' + b"x" * TWO_MIB + b'"}'


async def test_two_mib_to_telegram_webhook_sent_in_full_is_refused_with_413(base_url: str) -> None:
    """A 2 MiB update sent without a length, with the right secret, is cut off with 413."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        assert await chunked_post(session, base_url + "/telegram/webhook", BIG_JSON, headers) == 413


async def test_two_mib_to_slack_events_sent_in_full_is_refused_with_413(base_url: str) -> None:
    """A 2 MiB Slack post sent without a length, correctly signed, is cut off with 413."""
    headers = {"Content-Type": "application/json", **slack_headers(BIG_JSON)}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        assert await chunked_post(session, base_url + "/slack/events", BIG_JSON, headers) == 413


async def test_two_mib_to_the_web_chat_is_refused_with_413(base_url: str) -> None:
    """A citizen's browser posting 2 MiB to /chat/send is refused for size, announced or not."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        headers = await chat_session(session, base_url)
        assert await chunked_post(session, base_url + "/chat/send", BIG_JSON, headers) == 413
        async with session.post(base_url + "/chat/send", data=io.BytesIO(BIG_JSON), headers=headers) as response:
            assert response.status == 413


async def test_two_mib_to_desk_sign_in_is_refused_with_413(base_url: str) -> None:
    """A 2 MiB sign-in form is refused for size."""
    body = b"username=" + b"x" * TWO_MIB
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await (await session.get(base_url + "/desk/login")).read()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        assert await chunked_post(session, base_url + "/desk/login", body, headers) == 413


async def test_ordinary_chat_message_fits_the_default_limit(base_url: str) -> None:
    """The longest message a citizen may write, in the most escaped form JSON allows, is accepted."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        headers = await chat_session(session, base_url)
        body = json.dumps({"event_id": str(uuid.uuid4()), "text": "\U0001f5d1" * 8000}, ensure_ascii=True).encode()
        async with session.post(base_url + "/chat/send", data=body, headers=headers) as response:
            assert response.status == 200, await response.text()


# --- /slack/events: parsing what was signed -------------------------------------------------------


async def slack_post(base_url: str, body: bytes, content_type: str = "application/json") -> int:
    """POST a correctly signed body to /slack/events; the status."""
    headers = {"Content-Type": content_type, **slack_headers(body)}
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
        session.post(base_url + "/slack/events", data=body, headers=headers) as response,
    ):
        return response.status


async def test_deeply_nested_json_is_answered_400(base_url: str) -> None:
    """Signed JSON nested 100,000 deep is a bad request, not a server error."""
    assert await slack_post(base_url, b"[" * 100_000 + b"]" * 100_000) == 400


async def test_deeply_nested_event_object_is_answered_400(base_url: str) -> None:
    """A signed event callback whose event nests objects far deeper than Slack ever does is answered 400."""
    nested = '{"a":' * 5000 + "1" + "}" * 5000
    body = f'{{"type":"event_callback","event_id":"Ev1","event":{{"type":"message","x":{nested}}}}}'.encode()
    assert await slack_post(base_url, body) == 400


async def test_deeply_nested_interactive_payload_is_answered_400(base_url: str) -> None:
    """A signed form post whose payload field nests deeply is answered 400."""
    body = b"payload=" + b"%5B" * 100_000 + b"%5D" * 100_000
    assert await slack_post(base_url, body, "application/x-www-form-urlencoded") == 400


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"text"',
        b"42",
        b"null",
        b'{"type":"event_callback","event":5}',
        b'{"type":"event_callback","event":[1]}',
    ],
)
async def test_signed_json_that_is_no_slack_payload_is_answered_400(base_url: str, body: bytes) -> None:
    """Signed JSON of the wrong shape is a bad request, never a 500."""
    assert await slack_post(base_url, body) == 400


async def test_oversized_unsigned_slack_body_is_refused_for_size_unread(base_url: str) -> None:
    """An unsigned body announced over the limit is 413 at once: nothing is read, so no signature is computed."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(base_url + "/slack/events", data=io.BytesIO(b"x" * TWO_MIB)) as response:
                status = response.status
        except aiohttp.ClientOSError:
            status = 413  # the server answered and closed while the body was still being sent
    assert status == 413


# --- /metrics behind a proxy ---------------------------------------------------------------


async def get(base_url: str, path: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    """GET ``path``; the response, its body read."""
    async with aiohttp.ClientSession() as session:
        response = await session.get(base_url + path, headers=headers or {})
        await response.read()
        return response


async def test_metrics_are_served_to_a_direct_request(base_url: str) -> None:
    """A request straight to the bridge (monitoring on the host) gets the metrics."""
    response = await get(base_url, "/metrics")
    assert response.status == 200


@pytest.mark.parametrize(
    "header", [{"X-Forwarded-For": "198.51.100.7"}, {"Forwarded": "for=198.51.100.7"}, {"X-Real-IP": "198.51.100.7"}]
)
async def test_metrics_are_not_served_through_a_proxy(base_url: str, header: dict[str, str]) -> None:
    """A request that came through a reverse proxy gets 404 for /metrics."""
    response = await get(base_url, "/metrics", header)
    assert response.status == 404


async def test_metrics_through_a_proxy_when_the_setting_allows(tmp_path: Path) -> None:
    """With BRIDGE_METRICS_BEHIND_PROXY=true a proxied request gets the metrics."""
    async with running_app(tmp_path, metrics_behind_proxy=True) as url:
        response = await get(url, "/metrics", {"X-Forwarded-For": "198.51.100.7"})
    assert response.status == 200


# --- the embedded web chat over https --------------------------------------------------------------


async def test_embedded_chat_over_https_sets_a_partitioned_cookie(tmp_path: Path) -> None:
    """``/?embed=1`` over https (a trusted proxy says so) is 200 with a SameSite=None; Secure; Partitioned cookie."""
    async with running_app(tmp_path, trusted_proxies="127.0.0.1") as url:
        response = await get(url, "/?embed=1", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"})
    assert response.status == 200
    cookie = response.headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"samesite", "secure", "partitioned", "httponly"} <= attributes
    assert "SameSite=None" in cookie


async def test_chat_page_over_plain_http_keeps_a_lax_cookie(base_url: str) -> None:
    """The chat page over plain http sets a Lax cookie without Secure (the browser would drop a Secure one)."""
    response = await get(base_url, "/?embed=1")
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Partitioned" not in cookie


async def test_bridge_answers_after_refusals(base_url: str) -> None:
    """After oversized and malformed requests the bridge still reports healthy."""
    await answer_to_headers_only(base_url, "/telegram/webhook", {})
    await slack_post(base_url, b"[" * 10_000)

    async def healthy() -> bool:
        return (await get(base_url, "/healthz")).status == 200

    await eventually(healthy, what="/healthz")
