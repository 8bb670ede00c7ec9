"""One bad update never holds up everyone: bad text is cleaned, an update that still fails is set aside."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.pacing import SendPace
from adapters.telegram import TelegramAdapter
from bot.model import PostKind
from bot.storage.store import Store, Tx, utc_now
from tests.bridge import KEYWORDS, Bridge, build_bridge
from tests.e2e.test_telegram import make_adapter
from tests.emulators.telegram import TelegramEmulator
from tests.fakes import FakeDecision, KeywordRouter
from tests.waiting import eventually

SECRET = "s3cret_webhook-token"  # noqa: S105  # a made-up secret for the test
POISON = "poison"


class BrokenRouter(KeywordRouter):
    """A router with a bug: it raises on one word (an unexpected error inside ``relay.accept``)."""

    def route(self, text: str, *, language: str | None = None) -> FakeDecision:
        if POISON in text:
            raise ValueError("a bug in the router")
        return super().route(text, language=language)


@asynccontextmanager
async def polling(store: Store, telegram: TelegramEmulator) -> AsyncIterator[Bridge]:
    """The bridge polling the emulator, with the buggy router."""
    adapter = make_adapter(telegram)
    async with build_bridge(store, utc_now, citizen=[adapter], router=BrokenRouter(KEYWORDS, "general")) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="telegram polling")
        async with bridge.worker:
            yield bridge


async def _set_aside(store: Store) -> list[Any]:
    async def read(tx: Tx) -> list[Any]:
        return list(await tx.set_aside_events())

    return await store.read(read)


async def test_a_poisoned_update_is_set_aside_and_later_ones_are_processed(
    store: Store, telegram: TelegramEmulator
) -> None:
    """An update that fails every time is set aside after a few tries; the three after it open their cases."""
    async with polling(store, telegram) as bridge:
        telegram.push_message(user=100, text=f"{POISON} pill")
        for user in (101, 102, 103):
            telegram.push_message(user=user, text="pothole on Mill Lane")
        await eventually(lambda: len(bridge.slack.threads) == 3, timeout=20, what="three cases from good updates")
        [aside] = await _set_aside(store)
        assert (aside.platform, aside.error) == ("telegram", "ValueError")


async def test_a_lone_surrogate_is_stored_as_a_replacement_character(
    sqlite_store: Store, telegram: TelegramEmulator
) -> None:
    """Text SQLite cannot hold (a lone surrogate) is stored with U+FFFD in its place, and relayed."""
    async with polling(sqlite_store, telegram) as bridge:
        telegram.push_message(user=111, text="pothole \ud800 here")
        await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
        assert bridge.slack.threads[0].posts[0].text == "pothole \ufffd here"


async def test_a_nul_byte_in_text_and_name_is_stored_and_relayed_through_the_webhook(
    store: Store, telegram: TelegramEmulator
) -> None:
    """A NUL byte in the text and the display name (PostgreSQL cannot store it) is dropped: 200, stored, relayed."""
    adapter = TelegramAdapter(
        token=telegram.token,
        api_url=telegram.api_url,
        webhook_url="https://bridge.example.gov/telegram/webhook",
        webhook_secret=SECRET,
        flood=SendPace(per_chat_interval=0.0, overall_rate=10_000.0),
    )
    app = web.Application()
    adapter.mount(app)
    async with build_bridge(store, utc_now, citizen=[adapter]) as bridge, TestClient(TestServer(app)) as client:
        await eventually(lambda: adapter.health() == "up", what="the webhook registered")
        message = telegram.message(user=111, text="pot\x00hole on Mill Lane")
        message["from"]["first_name"] = "A\x00da"
        update = telegram.update(message=message)
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await client.post("/telegram/webhook", json=update, headers=headers)
        assert response.status == 200
        await bridge.settle()
        root = bridge.slack.threads[0].posts[0]
        assert (root.kind, root.text, root.card.citizen_name) == (PostKind.ROOT, "pothole on Mill Lane", "Ada Citizen")
