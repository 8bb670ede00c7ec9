"""Telegram in the citizen's language: the real python-telegram-bot against the Bot API emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.events import StaffActionKind
from bot.storage.store import Store, utc_now
from tests.bridge import KEYWORDS, Bridge, build_bridge
from tests.e2e.test_telegram import CITIZEN, make_adapter
from tests.emulators.telegram import TelegramEmulator
from tests.fakes import KeywordRouter
from tests.waiting import eventually

SPANISH_KEYWORDS = {**KEYWORDS, "bache": "roads", "contenedor": "waste"}


@asynccontextmanager
async def running(store: Store, telegram: TelegramEmulator) -> AsyncIterator[Bridge]:
    """The bridge with the real Telegram adapter polling the emulator, routing Spanish keywords too."""
    adapter = make_adapter(telegram)
    router = KeywordRouter(SPANISH_KEYWORDS, "general")
    async with build_bridge(store, utc_now, citizen=[adapter], router=router) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="telegram polling")
        async with bridge.worker:
            yield bridge


async def test_spanish_citizen_gets_menu_ack_and_close_in_spanish(
    sqlite_store: Store, telegram: TelegramEmulator
) -> None:
    """A citizen with Telegram in Spanish who writes Spanish reads the menu, the ack and the close in Spanish."""
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(
            user=CITIZEN, language_code="es", text="Hay un bache al lado del contenedor de basura de mi calle"
        )
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 1, what="the menu")
        menu = telegram.texts_to(CITIZEN)[0]
        assert menu.startswith("¿Qué oficina")
        buttons = json.loads(telegram.sent_to(CITIZEN)[0].params["reply_markup"])["inline_keyboard"]
        assert [row[0]["text"] for row in buttons][-1] == "Otro"
        telegram.push_callback(user=CITIZEN, data="roads", language_code="es")
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 2, what="the acknowledgement")
        assert telegram.texts_to(CITIZEN)[1].startswith("Gracias.")
        await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.CLOSE)
        bridge.worker.wake()
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 3, what="the close notice")
        assert "ha cerrado su caso" in telegram.texts_to(CITIZEN)[2]


async def test_language_command_switches_to_german(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """``/language de`` is confirmed in German, and the acknowledgement that follows is German."""
    async with running(sqlite_store, telegram):
        telegram.push_message(
            user=CITIZEN, text="/language de", entities=[{"type": "bot_command", "offset": 0, "length": 9}]
        )
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 1, what="the confirmation")
        assert telegram.texts_to(CITIZEN)[0] == "Ab jetzt schreiben wir Ihnen auf Deutsch."
        telegram.push_message(user=CITIZEN, text="There is a pothole on Mill Lane")
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 2, what="the acknowledgement")
        assert telegram.texts_to(CITIZEN)[1].startswith("Vielen Dank.")


async def test_command_menu_registered_per_language(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """The command menu is registered for each offered language, described in it, with ``language`` listed."""
    async with running(sqlite_store, telegram):
        await eventually(lambda: len(telegram.calls_to("setMyCommands")) >= 11, what="the command menus")
        by_language = {
            call.params.get("language_code", ""): call.json("commands") for call in telegram.calls_to("setMyCommands")
        }
        assert [command["command"] for command in by_language[""]] == [
            "start",
            "status",
            "new",
            "help",
            "language",
            "mydata",
            "forget",
            "subscribe",
            "topics",
            "stop",
        ]
        described = {command["command"]: command["description"] for command in by_language["es"]}
        assert described["language"].startswith("Elegir el idioma")
        assert described["forget"] == "Borrar sus datos"


async def test_group_refusal_in_the_writers_language(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A message in a group is refused in the language of the writer's Telegram app."""
    async with running(sqlite_store, telegram):
        telegram.push_message(user=CITIZEN, chat=-100, chat_type="group", language_code="fr", text="bonjour")
        await eventually(lambda: len(telegram.texts_to(-100)) == 1, what="the refusal")
        assert telegram.texts_to(-100)[0].startswith("Bonjour")
