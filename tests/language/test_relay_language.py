"""The citizen's language through the real relay (fake platforms): which language wins, and every text in it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.departments import Department, Directory
from bot.events import CitizenCommandKind, StaffActionKind
from bot.i18n import Catalogs
from bot.model import DISCORD, SLACK, Address, DepartmentKey, ReplyKind
from bot.speech import Languages
from bot.storage.store import Store
from tests.bridge import KEYWORDS, Bridge, build_bridge
from tests.fakes import FakeCitizenPlatform, FakeClock, KeywordRouter

#: Marker words the fake router identifies a text's language by.
IDENTIFIED = {"bache": "es", "loch": "de", "dziura": "pl", "nid": "fr"}
DIRECTORY = Directory(
    departments=(
        Department(
            DepartmentKey("roads"),
            "Roads & Transport",
            Address(SLACK, "C0ROADS"),
            names=(("es", "Carreteras y Transporte"), ("de", "Straßen und Verkehr")),
        ),
        Department(DepartmentKey("waste"), "Waste & Recycling", Address(SLACK, "C0WASTE")),
        Department(DepartmentKey("general"), "Citizen Services", Address(SLACK, "C0GENERAL")),
    ),
    fallback=DepartmentKey("general"),
)
ROUTER_KEYWORDS = {**KEYWORDS, "bache": "roads", "loch": "roads", "dziura": "roads", "nid": "roads"}


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    """Every shipped catalog, English office."""
    return Catalogs.load()


async def _bridge(store: Store, clock: FakeClock, languages: Languages) -> AsyncIterator[Bridge]:
    router = KeywordRouter(ROUTER_KEYWORDS, "general", languages=IDENTIFIED)
    discord = FakeCitizenPlatform(DISCORD)
    async with build_bridge(
        store, clock, citizen=(discord,), directory=DIRECTORY, router=router, languages=languages
    ) as built:
        yield built


@pytest.fixture
async def bridge(store: Store, clock: FakeClock, catalogs: Catalogs) -> AsyncIterator[Bridge]:
    """A relay offering every shipped language, with department names in Spanish and German."""
    async for built in _bridge(store, clock, Languages.of(catalogs, timezone="Europe/Madrid")):
        yield built


@pytest.fixture
async def narrow(store: Store, clock: FakeClock, catalogs: Catalogs) -> AsyncIterator[Bridge]:
    """A relay whose office offers English and Spanish only (``languages: [en, es]``)."""
    async for built in _bridge(store, clock, Languages.of(catalogs, offered=("en", "es"))):
        yield built


def _discord(bridge: Bridge) -> FakeCitizenPlatform:
    channel = bridge.channels.citizen[DISCORD]
    assert isinstance(channel, FakeCitizenPlatform)
    return channel


async def test_identified_language_beats_platform_locale(bridge: Bridge) -> None:
    """A citizen whose app is in English but who writes Spanish is acknowledged in Spanish."""
    await bridge.telegram.receive(user=1, text="Hay un bache enorme en mi calle", language="en")
    await bridge.settle()
    [ack] = bridge.telegram.replies(1)
    assert ack.kind is ReplyKind.ACK
    assert ack.text.startswith("Gracias.")
    assert "Carreteras y Transporte" in ack.text


async def test_platform_locale_used_when_text_too_short_to_tell(bridge: Bridge) -> None:
    """A Discord citizen with a German locale whose message says too little is answered in German."""
    discord = _discord(bridge)
    await discord.receive(user=7, text="road?", language="de")
    await bridge.settle()
    [ack] = discord.replies(7)
    assert ack.text.startswith("Vielen Dank.")
    assert "Straßen und Verkehr" in ack.text


async def test_office_language_when_nothing_is_known(bridge: Bridge) -> None:
    """With no locale and nothing identified, the citizen is answered in the office language."""
    await bridge.telegram.receive(user=1, text="pothole", language=None)
    await bridge.settle()
    [ack] = bridge.telegram.replies(1)
    assert ack.text.startswith("Thank you.")


async def test_explicit_choice_beats_identified_language(bridge: Bridge) -> None:
    """A citizen who chose German with ``language de`` gets German even when they write Spanish."""
    await bridge.telegram.command(user=1, command=CitizenCommandKind.LANGUAGE, argument="de")
    await bridge.telegram.receive(user=1, text="Hay un bache en la calle", language="es")
    await bridge.settle()
    confirmation, ack = bridge.telegram.replies(1)
    assert confirmation.text == "Ab jetzt schreiben wir Ihnen auf Deutsch."
    assert ack.text.startswith("Vielen Dank.")


async def test_language_choice_holds_for_staff_notices(bridge: Bridge) -> None:
    """After ``language de`` the close notice a department sends is German too."""
    await bridge.telegram.receive(user=1, text="There is a pothole in my street")
    await bridge.settle()
    await bridge.telegram.command(user=1, command=CitizenCommandKind.LANGUAGE, argument="Deutsch")
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.CLOSE)
    await bridge.settle()
    closed = bridge.telegram.texts(1)[-1]
    assert closed.startswith("Ihr Anliegen")
    assert "Straßen und Verkehr" in closed


async def test_language_command_without_argument_lists_offered_languages(narrow: Bridge) -> None:
    """``language`` alone names the current language and the offered ones, in their own names."""
    await narrow.telegram.command(user=1, command=CitizenCommandKind.LANGUAGE, language="es")
    await narrow.settle()
    [reply] = narrow.telegram.texts(1)
    assert "español" in reply
    assert reply.endswith("English, español.")


async def test_language_command_refuses_a_language_not_offered(narrow: Bridge) -> None:
    """``language de`` where the office offers English and Spanish says so and lists what it offers."""
    await narrow.telegram.command(user=1, command=CitizenCommandKind.LANGUAGE, argument="de")
    await narrow.settle()
    [reply] = narrow.telegram.texts(1)
    assert reply == "We do not offer that language. Languages you can choose: English, español."


async def test_unoffered_language_answered_in_office_language_told_once_in_theirs(narrow: Bridge) -> None:
    """A Polish citizen of an office offering English and Spanish is told once, in Polish, and answered in English."""
    await narrow.telegram.receive(user=1, text="Dziura w drodze przy szkole", language="pl")
    await narrow.settle()
    await narrow.slack.act(narrow.slack.threads[0], StaffActionKind.CLOSE)
    await narrow.telegram.receive(user=1, text="Kolejna dziura w drodze", language="pl")
    await narrow.settle()
    replies = narrow.telegram.texts(1)
    notices = [text for text in replies if text.startswith("Ten urząd odpowiada")]
    assert len(notices) == 1
    assert replies[0] == notices[0]
    assert "angielski" in notices[0]
    assert replies[1].startswith("Thank you.")


async def test_menu_is_in_the_citizens_language(bridge: Bridge) -> None:
    """When the router is unsure, the question, the department names and "Other" are in Spanish."""
    await bridge.telegram.receive(user=1, text="bache y bin", language="es")
    await bridge.settle()
    [menu] = bridge.telegram.replies(1)
    assert menu.kind is ReplyKind.MENU
    assert menu.text.startswith("¿Qué oficina")
    assert [option.label for option in menu.options] == ["Waste & Recycling", "Carreteras y Transporte", "Otro"]


async def test_menu_answer_by_translated_name(bridge: Bridge) -> None:
    """A Spanish citizen may answer the menu with the department's Spanish name."""
    await bridge.telegram.receive(user=1, text="bache y bin", language="es")
    await bridge.telegram.receive(user=1, text="Carreteras y Transporte", language="es")
    await bridge.settle()
    assert [thread.channel for thread in bridge.slack.threads] == ["C0ROADS"]


async def test_status_dates_in_citizens_language_and_office_zone(bridge: Bridge) -> None:
    """``status`` lists cases with the status word and the date in Spanish, in the office's time zone."""
    await bridge.telegram.receive(user=1, text="Hay un bache en mi calle", language="es")
    await bridge.telegram.command(user=1, command=CitizenCommandKind.STATUS, language="es")
    await bridge.settle()
    status = bridge.telegram.texts(1)[-1]
    header, line = status.splitlines()
    assert header == "Tiene 1 caso:"
    # The fake clock says 09:00 UTC on 5 January: 10:00 in Madrid.
    assert line.endswith("Carreteras y Transporte · abierto · 5/1/26, 10:00")


async def test_help_mentions_the_language_command(bridge: Bridge) -> None:
    """``help`` explains how to choose a language, with the platform's command spelling."""
    await bridge.telegram.command(user=1, command=CitizenCommandKind.HELP, language="es")
    await bridge.settle()
    [reply] = bridge.telegram.texts(1)
    assert "/language en" in reply
    assert reply.startswith("Simplemente escriba su mensaje")


async def test_too_long_error_in_citizens_language(store: Store, clock: FakeClock, catalogs: Catalogs) -> None:
    """A message over the limit is refused in the citizen's language."""
    languages = Languages.of(catalogs)
    async with build_bridge(store, clock, max_message_chars=10, languages=languages) as bridge:
        await bridge.telegram.receive(user=1, text="x" * 11, language="fr")
        await bridge.settle()
        [reply] = bridge.telegram.texts(1)
    assert reply.startswith("Votre message est trop long")


async def test_staff_see_the_citizens_language_on_the_thread_root(narrow: Bridge) -> None:
    """The thread root's card names the citizen's own language, even one the office answers in English."""
    await narrow.telegram.receive(user=1, text="Dziura w drodze", language="pl")
    await narrow.settle()
    assert narrow.slack.threads[0].posts[0].card.language == "pl"
