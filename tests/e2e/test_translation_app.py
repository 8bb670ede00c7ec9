"""The whole bridge as ``civic-bridge run`` builds it: translation is on exactly when BRIDGE_TRANSLATE_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import App
from bot.events import CitizenMessage, Sender
from bot.model import WEB, Address, Message, Translation
from bot.storage.store import Tx
from config.settings import Settings
from tests.emulators.libretranslate import LibreTranslateEmulator
from tests.fakes import next_id
from tests.waiting import eventually

SPANISH = "Hay un bache enorme en mi calle"
ENGLISH = "There is a huge pothole in my street"
CHAT = Address(WEB, "session-ana")
ROUTING = """\
fallback: general
departments:
  - key: general
    name: Citizen Services
    desk: web
"""


@asynccontextmanager
async def running_app(tmp_path: Path, **settings: Any) -> AsyncIterator[App]:
    """The bridge on a free loopback port with the web chat and desk only, one department on the desk."""
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    configured = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
        routing_file=routing,
        http_port=0,
        desk_users_file=tmp_path / "desk-users.json",
        **settings,
    )
    async with App(settings=configured) as app:
        yield app


async def first_message(app: App) -> Message | None:
    """The citizen's first stored message, as the desk reads it."""

    async def read(tx: Tx) -> Message | None:
        cases = await tx.cases_of_chat(CHAT)
        return (await tx.messages(cases[0].id))[0] if cases else None

    assert app.store is not None
    return await app.store.read(read)


async def citizen_writes(app: App, text: str) -> None:
    """A Spanish-speaking citizen writes in the web chat."""
    assert app.relay is not None
    event_id = next_id()
    await app.relay.accept(
        CitizenMessage(event_id, Sender(WEB, CHAT.chat, "Ana", "es"), CHAT, text, source_id=event_id)
    )


async def test_bridge_with_translation_server_translates_citizen_text_for_the_desk(tmp_path: Path) -> None:
    """With BRIDGE_TRANSLATE_URL set, the desk's copy of a Spanish message carries its English translation."""
    async with (
        LibreTranslateEmulator() as server,
        running_app(tmp_path, translate_url=server.url, translate_timeout_seconds=2.0) as app,
    ):
        await citizen_writes(app, SPANISH)

        async def translated() -> bool:
            message = await first_message(app)
            return message is not None and message.translation is not None

        await eventually(translated, what="the stored translation")
        message = await first_message(app)
        assert message is not None
        assert message.translation == Translation("es", "en", text=ENGLISH)


async def test_bridge_without_translation_server_sends_no_text_anywhere(tmp_path: Path) -> None:
    """BRIDGE_TRANSLATE_URL unset: the message reaches the desk untranslated and a server nearby hears nothing."""
    async with LibreTranslateEmulator() as server, running_app(tmp_path) as app:
        await citizen_writes(app, SPANISH)

        async def delivered() -> bool:
            message = await first_message(app)
            return message is not None and message.delivered_id is not None

        await eventually(delivered, what="the message on the desk")
        message = await first_message(app)
        assert message is not None
        assert (message.translation, server.calls) == (None, [])
