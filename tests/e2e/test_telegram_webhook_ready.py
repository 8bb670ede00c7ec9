"""Telegram webhook mode reports "up" only once Telegram has the webhook (no registration race)."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.telegram import TelegramAdapter
from bot.storage.store import Store, utc_now
from tests.bridge import build_bridge
from tests.emulators.telegram import TelegramEmulator
from tests.waiting import eventually

SECRET = "s3cret_webhook-token"  # noqa: S105  # a made-up secret for the test
PUBLIC_URL = "https://bridge.example.gov/telegram/webhook"


class SlowWebhookTelegram(TelegramEmulator):
    """A Bot API whose setWebhook answers only when the test opens ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.asked = asyncio.Event()

    async def _m_setWebhook(self, params: dict[str, str], files: object) -> Any:  # noqa: N802  # Bot API name
        self.asked.set()
        await self.gate.wait()
        return await super()._m_setWebhook(params, files)


async def test_webhook_mode_is_not_up_before_telegram_has_the_webhook(sqlite_store: Store) -> None:
    """While setWebhook has not answered, health says connecting; once it has, up with the webhook set."""
    async with SlowWebhookTelegram() as telegram:
        adapter = TelegramAdapter(
            token=telegram.token, api_url=telegram.api_url, webhook_url=PUBLIC_URL, webhook_secret=SECRET
        )
        async with build_bridge(sqlite_store, utc_now, citizen=[adapter]):
            await asyncio.wait_for(telegram.asked.wait(), timeout=10)
            seen_before = adapter.health()
            telegram.gate.set()
            await eventually(lambda: adapter.health() == "up", what="the webhook registered")
            assert (seen_before, telegram.webhook is not None) == ("connecting", True)
