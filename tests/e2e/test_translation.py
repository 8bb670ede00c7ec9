"""Machine translation end to end: the real Slack adapter against the Slack emulator, a loopback LibreTranslate.

The citizen writes through the real relay (a Spanish-speaking Telegram citizen; their replies land on the fake
Telegram of ``tests.bridge``); staff answer in the emulated Slack thread. The translation server is the
LibreTranslate emulator, or a port where nothing listens, or no server at all.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.slack import SlackAdapter
from bot.events import CitizenMessage, Sender
from bot.i18n import Catalogs
from bot.model import TELEGRAM, Address, CitizenReply
from bot.ports import DeliveryError
from bot.storage.store import Store
from bot.translate import LibreTranslateClient, NoTranslation
from bot.translating import MachineTranslation
from routing.language import LanguageIdentifier
from tests.backends import open_store
from tests.bridge import DIRECTORY, Bridge, build_bridge
from tests.emulators.libretranslate import SERVER_ERROR, SLOW_DOWN, Failure, LibreTranslateEmulator
from tests.emulators.slack import BOT_TOKEN, SIGNING_SECRET, Message, SlackEmulator
from tests.emulators.slack import SERVER_ERROR as SLACK_SERVER_ERROR
from tests.fakes import FakeClock, next_id
from tests.waiting import eventually
from tests.web.harness import DESK_DIRECTORY, running_web

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

CHANNELS = ("C0ROADS", "C0WASTE", "C0HOUSING", "C0GENERAL")
CITIZEN = "222"
SPANISH = "Hay un bache enorme en mi calle"
ENGLISH = "There is a huge pothole in my street"
REPLY = "We will repair it this week."
REPLY_ES = "Lo repararemos esta semana."
TRANSLATED_REPLY = f"{REPLY_ES}\n\nTraducción automática; a continuación, el original.\nOriginal (inglés):\n{REPLY}"


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    """The router's language identifier over the office's languages (loaded once: about half a second)."""
    return LanguageIdentifier(["en", "es", "fr", "de", "ar"])


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    """The shipped catalogs (labels of a translated reply)."""
    return Catalogs.load()


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The emulated Slack workspace."""
    async with SlackEmulator(channels=CHANNELS) as emulator:
        yield emulator


@pytest.fixture
async def libretranslate() -> AsyncIterator[LibreTranslateEmulator]:
    """The loopback LibreTranslate."""
    async with LibreTranslateEmulator() as emulator:
        yield emulator


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated SQLite store."""
    async with open_store("sqlite", tmp_path, clock=clock) as opened:
        yield opened


def _closed_port_url() -> str:
    """A loopback address where nothing listens: a translation server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def citizen_message(text: str, *, language: str | None = "es") -> CitizenMessage:
    """The Spanish-speaking Telegram citizen writes."""
    event_id = next_id()
    return CitizenMessage(
        event_id=event_id,
        sender=Sender(TELEGRAM, CITIZEN, "Ana Vecina", language),
        chat=Address(TELEGRAM, CITIZEN),
        text=text,
        source_id=f"src{event_id}",
    )


@dataclass
class World:
    """The bridge with the real Slack adapter, the translation stage, and the emulators around them."""

    bridge: Bridge
    slack: SlackEmulator
    libretranslate: LibreTranslateEmulator
    events_url: str

    async def citizen(self, text: str, *, language: str | None = "es") -> None:
        """The citizen writes."""
        await self.bridge.relay.accept(citizen_message(text, language=language))
        self.bridge.worker.wake()

    async def open_case(self, text: str = SPANISH) -> Message:
        """A citizen's first message, and the thread root it becomes (the fallback: Citizen Services)."""
        await self.citizen(text)
        await eventually(lambda: len(self.slack.roots("C0GENERAL")) == 1, what="the thread root")
        return self.slack.roots("C0GENERAL")[0]

    async def staff(self, root: Message, text: str) -> None:
        """An officer answers in the case's thread."""
        payload = self.slack.staff_message(root.channel, text, thread_ts=root.ts)
        status, _ = await self.slack.deliver(self.events_url, payload)
        assert status == 200
        self.bridge.worker.wake()

    async def reply_with(self, text: str) -> CitizenReply:
        """Wait for the citizen to be sent a reply containing ``text``."""
        telegram = self.bridge.telegram
        await eventually(
            lambda: any(text in r.text for r in telegram.replies(CITIZEN)), what=f"a citizen reply with {text!r}"
        )
        return next(r for r in telegram.replies(CITIZEN) if text in r.text)

    async def thread_line(self, root: Message, text: str) -> Message:
        """Wait for a bot post in the root's thread containing ``text``."""
        await eventually(lambda: any(text in m.text for m in self.slack.thread(root)), what=f"thread line {text!r}")
        return next(m for m in self.slack.thread(root) if text in m.text)

    def translate_calls(self) -> list[dict[str, object]]:
        """What the translation server was asked to translate."""
        return [dict(call.fields) for call in self.libretranslate.calls if call.path == "/translate"]


def root_text(root: Message) -> str:
    """Every text of the root's blocks, joined: what staff read on the card."""
    return "\n".join(str(block["text"]["text"]) for block in root.blocks or [] if isinstance(block.get("text"), dict))


@asynccontextmanager
async def translation_world(
    store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    libretranslate: LibreTranslateEmulator,
    catalogs: Catalogs,
    identifier: LanguageIdentifier | None,
    *,
    url: str | None = "",
    as_typed: Collection[str] = (),
    deadline: float = 2.0,
) -> AsyncIterator[World]:
    """The bridge translating through ``url`` (default: the emulator; None: no translation server)."""
    translator: LibreTranslateClient | NoTranslation = (
        NoTranslation() if url is None else LibreTranslateClient(url=url or libretranslate.url, timeout=deadline)
    )
    adapter = SlackAdapter(
        bot_token=SecretStr(BOT_TOKEN),
        directory=DIRECTORY,
        api_url=slack.api_url,
        signing_secret=SecretStr(SIGNING_SECRET),
        timeout=5,
    )
    app = web.Application()
    adapter.mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url_of_events = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    preparation = MachineTranslation(
        store=store,
        translator=translator,
        catalogs=catalogs,
        directory=DIRECTORY,
        office_language="en",
        identify=(lambda text: identifier.identify(text).language) if identifier else lambda _text: None,
        as_typed=as_typed,
        deadline=deadline,
    )
    try:
        async with (
            translator,
            build_bridge(store, clock, department=[adapter], preparation=preparation) as bridge,
            bridge.worker,
        ):
            await adapter.start_intake()
            yield World(bridge, slack, libretranslate, url_of_events)
    finally:
        await runner.cleanup()


@pytest.fixture
async def world(
    sqlite_store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    libretranslate: LibreTranslateEmulator,
    catalogs: Catalogs,
    identifier: LanguageIdentifier,
) -> AsyncIterator[World]:
    """The bridge translating through the LibreTranslate emulator."""
    async with translation_world(sqlite_store, clock, slack, libretranslate, catalogs, identifier) as built:
        yield built


# --- citizen text, for staff ---------------------------------------------------------------


async def test_spanish_message_reaches_slack_with_english_translation_under_it(world: World) -> None:
    """The thread root shows the Spanish original and, under it, its English translation."""
    root = await world.open_case(SPANISH)
    card = root_text(root)
    assert card.index(SPANISH) < card.index(f"*Translation (es → en):* {ENGLISH}")


async def test_later_spanish_message_is_a_thread_reply_with_its_translation(world: World) -> None:
    """A later Spanish message in the thread carries its translation on the next line."""
    root = await world.open_case()
    await world.citizen("Hay otro bache en la calle Mayor")
    line = await world.thread_line(root, "otro bache")
    assert line.text == (
        "*Ana Vecina:* Hay otro bache en la calle Mayor\n*Translation (es → en):* [en] Hay otro bache en la calle Mayor"
    )


async def test_message_in_the_office_language_is_not_sent_for_translation(world: World) -> None:
    """An English message from a Spanish-speaking citizen goes to staff as it is, with no call to the server."""
    root = await world.open_case("The lamp outside the school has been dark for a week now")
    assert ("Translation" not in root_text(root), world.libretranslate.calls) == (True, [])


async def test_short_text_the_identifier_cannot_tell_is_detected_by_the_server(world: World) -> None:
    """Too short to identify locally: the server's /detect names the language, then it is translated."""
    root = await world.open_case("hay calle")
    paths = [call.path for call in world.libretranslate.calls]
    assert (paths, "*Translation (es → en):* [en] hay calle" in root_text(root)) == (["/detect", "/translate"], True)


async def test_retried_post_is_not_translated_twice(world: World) -> None:
    """Slack fails the first post; the retry reuses the stored translation instead of asking again."""
    world.slack.fail_next("chat.postMessage", SLACK_SERVER_ERROR)
    root = await world.open_case()
    assert (ENGLISH in root_text(root), len(world.translate_calls())) == (True, 1)


# --- staff replies, for the citizen --------------------------------------------------------


async def test_staff_reply_reaches_spanish_citizen_translated_with_original_below(world: World) -> None:
    """The citizen reads the Spanish translation first, then the labelled English original."""
    root = await world.open_case()
    await world.staff(root, REPLY)
    reply = await world.reply_with(REPLY_ES)
    assert reply.text == TRANSLATED_REPLY


async def test_asis_reply_goes_to_citizen_as_typed(world: World) -> None:
    """A reply starting with !asis reaches the citizen exactly as typed after the mark, untranslated."""
    root = await world.open_case()
    await world.staff(root, "!asis Gracias, lo miramos hoy.")
    reply = await world.reply_with("Gracias, lo")
    assert (reply.text, len(world.translate_calls())) == ("Gracias, lo miramos hoy.", 1)  # 1: the citizen's message


async def test_department_that_turned_translation_off_replies_as_typed(
    sqlite_store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    libretranslate: LibreTranslateEmulator,
    catalogs: Catalogs,
    identifier: LanguageIdentifier,
) -> None:
    """With ``translate_replies: false`` the department's replies go out as typed; citizen text is still translated."""
    async with translation_world(
        sqlite_store, clock, slack, libretranslate, catalogs, identifier, as_typed={"general"}
    ) as world:
        root = await world.open_case()
        await world.staff(root, REPLY)
        reply = await world.reply_with(REPLY)
        assert (reply.text, ENGLISH in root_text(root)) == (REPLY, True)


async def test_retried_reply_is_not_translated_twice(world: World) -> None:
    """The translated body is stored with the outbox row: a failed send retried asks the server nothing more."""
    root = await world.open_case()
    world.bridge.telegram.fail_next(DeliveryError("telegram is briefly unreachable"))
    await world.staff(root, REPLY)
    reply = await world.reply_with(REPLY_ES)
    assert (reply.text, len(world.translate_calls())) == (TRANSLATED_REPLY, 2)  # the citizen's message, the reply


# --- a translation server that fails ---------------------------------------------------------


@pytest.mark.parametrize("failure", [SERVER_ERROR, SLOW_DOWN], ids=["server-error", "rate-limited"])
async def test_failing_server_lets_original_through_and_tells_staff(world: World, failure: Failure) -> None:
    """A 5xx or 429 from the server: the original reaches the thread at once, marked as untranslated."""
    world.libretranslate.fail(failure, failure)  # /detect, then /translate
    root = await world.open_case()
    card = root_text(root)
    assert (SPANISH in card, "_Translation unavailable: the translation server" in card) == (True, True)


async def test_server_down_lets_original_and_reply_through_and_tells_staff_once(
    sqlite_store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    libretranslate: LibreTranslateEmulator,
    catalogs: Catalogs,
    identifier: LanguageIdentifier,
) -> None:
    """Nothing listening: the citizen's text and the staff reply both go through untranslated; staff told once each."""
    async with translation_world(
        sqlite_store, clock, slack, libretranslate, catalogs, identifier, url=_closed_port_url()
    ) as world:
        root = await world.open_case()
        await world.staff(root, REPLY)
        reply = await world.reply_with(REPLY)
        await world.thread_line(root, "Translation unavailable")
        told = [m.text for m in world.slack.thread(root) if "Translation unavailable" in m.text]
        assert (reply.text, "cannot reach the translation server" in root_text(root), len(told)) == (REPLY, True, 1)


async def test_hanging_server_holds_a_message_no_longer_than_the_deadline(
    sqlite_store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    libretranslate: LibreTranslateEmulator,
    catalogs: Catalogs,
    identifier: LanguageIdentifier,
) -> None:
    """A server that never answers: the original reaches Slack about one deadline (0.5 s) later, marked."""
    async with translation_world(
        sqlite_store, clock, slack, libretranslate, catalogs, identifier, deadline=0.5
    ) as world:
        libretranslate.hang()
        started = time.monotonic()
        root = await world.open_case()
        waited = time.monotonic() - started
        assert ("did not answer within 0.5s" in root_text(root), waited < 3.0) == (True, True)


async def test_failure_puts_no_message_text_in_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Logs say the translation failed and why, never what the citizen or staff wrote."""
    caplog.set_level(logging.INFO)
    world.libretranslate.fail(SERVER_ERROR, SERVER_ERROR, SERVER_ERROR)  # /detect and /translate, then the reply
    root = await world.open_case()
    await world.staff(root, REPLY)
    await world.reply_with(REPLY)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ("translation" in logged, SPANISH in logged, REPLY in logged) == (True, False, False)


# --- no translation server -------------------------------------------------------------------


async def test_without_translation_server_no_text_leaves_the_bridge(
    sqlite_store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    libretranslate: LibreTranslateEmulator,
    catalogs: Catalogs,
    identifier: LanguageIdentifier,
) -> None:
    """BRIDGE_TRANSLATE_URL unset: messages and replies go as written and the server receives nothing."""
    async with translation_world(sqlite_store, clock, slack, libretranslate, catalogs, identifier, url=None) as world:
        root = await world.open_case()
        await world.staff(root, "!asis " + REPLY)
        reply = await world.reply_with(REPLY)
        assert (reply.text, "Translation" in root_text(root), libretranslate.calls) == (REPLY, False, [])


# --- the desk --------------------------------------------------------------------------------


async def test_desk_shows_translation_under_the_citizen_text_and_the_reply_sent(
    tmp_path: Path, clock: FakeClock, libretranslate: LibreTranslateEmulator, catalogs: Catalogs
) -> None:
    """The desk's case page shows the English translation under the Spanish text, and what the citizen was sent."""
    async with (
        open_store("sqlite", tmp_path, clock=clock) as store,
        LibreTranslateClient(url=libretranslate.url, timeout=2.0) as translator,
    ):
        preparation = MachineTranslation(
            store=store, translator=translator, catalogs=catalogs, directory=DESK_DIRECTORY, office_language="en"
        )
        async with running_web(store, clock, tmp_path, preparation=preparation) as web_bridge:
            await web_bridge.bridge.relay.accept(citizen_message(SPANISH))
            await web_bridge.bridge.settle()
            staff = await web_bridge.signed_in_staff()
            listing = await staff.desk_page()
            reference = listing.split('href="/desk/case/')[1].split('"')[0]
            posted = await staff.desk_post(reference, do="reply", text=REPLY)
            assert posted.status == 303
            await web_bridge.bridge.settle()
            page = await staff.desk_page(f"/desk/case/{reference}")
    assert (
        f'Translation (es → en):</span> <span lang="en">{ENGLISH}</span>' in page,
        f'Sent to the citizen as (en → es):</span> <span lang="es">{REPLY_ES}</span>' in page,
    ) == (True, True)
