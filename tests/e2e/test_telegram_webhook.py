"""Telegram webhook mode: updates arrive at POST /telegram/webhook on the bridge's own HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.pacing import SendPace
from adapters.telegram import TelegramAdapter
from bot.storage.store import Store, utc_now
from tests.bridge import Bridge, build_bridge
from tests.emulators.telegram import TelegramEmulator
from tests.waiting import eventually

SECRET = "s3cret_webhook-token"  # noqa: S105  # a made-up secret for the test
PUBLIC_URL = "https://bridge.example.gov/telegram/webhook"


@asynccontextmanager
async def webhook_bridge(
    store: Store, telegram: TelegramEmulator
) -> AsyncIterator[tuple[Bridge, TestClient[web.Request, web.Application]]]:
    """The bridge in webhook mode, its HTTP server on loopback, and a client to post updates with."""
    adapter = TelegramAdapter(
        token=telegram.token,
        api_url=telegram.api_url,
        webhook_url=PUBLIC_URL,
        webhook_secret=SECRET,
        flood=SendPace(per_chat_interval=0.0, overall_rate=10_000.0),
    )
    app = web.Application()
    adapter.mount(app)
    async with build_bridge(store, utc_now, citizen=[adapter]) as bridge, TestClient(TestServer(app)) as client:
        await adapter.start_intake()  # a webhook needs no intake lease: this does nothing
        await eventually(lambda: adapter.health() == "up", what="the webhook registered")
        async with bridge.worker:
            yield bridge, client


async def test_webhook_is_registered_with_url_and_secret(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """Starting in webhook mode calls setWebhook with the public URL and the secret, and never polls."""
    async with webhook_bridge(sqlite_store, telegram):
        assert telegram.webhook is not None
        assert (telegram.webhook["url"], telegram.webhook["secret_token"]) == (PUBLIC_URL, SECRET)
        assert telegram.calls_to("getUpdates") == []


async def test_webhook_with_good_secret_is_accepted(store: Store, telegram: TelegramEmulator) -> None:
    """An update posted with the right secret is answered 200 once the relay took it, and opens a case."""
    async with webhook_bridge(store, telegram) as (bridge, client):
        update = telegram.update(message=telegram.message(user=111, text="pothole on Mill Lane"))
        response = await client.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert response.status == 200
        await eventually(lambda: bool(bridge.slack.threads), what="the thread")
        await eventually(lambda: len(telegram.texts_to(111)) == 1, what="the acknowledgement")
        assert bridge.slack.threads[0].posts[0].text == "pothole on Mill Lane"


async def test_webhook_with_bad_secret_is_refused(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A wrong or missing secret gets 403 and nothing is stored."""
    async with webhook_bridge(sqlite_store, telegram) as (bridge, client):
        update = telegram.update(message=telegram.message(user=111, text="pothole on Mill Lane"))
        wrong = await client.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "no"})
        missing = await client.post("/telegram/webhook", json=update)
        assert (wrong.status, missing.status) == (403, 403)
        assert (await sqlite_store.outbox_stats()).depth == 0
        assert bridge.slack.sent == []


async def test_webhook_answers_bad_body_with_400(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A body that is not an update is answered 400, and the adapter keeps working."""
    async with webhook_bridge(sqlite_store, telegram) as (bridge, client):
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        bad = await client.post("/telegram/webhook", data=b"{not json", headers=headers)
        assert bad.status == 400
        update = telegram.update(message=telegram.message(user=111, text="pothole on Mill Lane"))
        good = await client.post("/telegram/webhook", json=update, headers=headers)
        assert good.status == 200
        await eventually(lambda: bool(bridge.slack.threads), what="the thread")
