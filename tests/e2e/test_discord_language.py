"""Discord in the citizen's language: the real discord.py client against the loopback Discord emulator."""

from __future__ import annotations

from bot.storage.store import Store
from tests.e2e.test_discord import CITIZEN, running
from tests.emulators.discord import DiscordEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually


async def test_discord_locale_decides_when_the_text_cannot(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A DM says nothing of its language; the locale of the citizen's button press makes the answer German."""
    async with running(sqlite_store, clock, discord_emulator):
        await discord_emulator.dm(CITIZEN, "pothole bin")
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 1, what="the menu")
        [menu] = discord_emulator.sent_to(CITIZEN)
        await discord_emulator.press(menu, "menu:waste", user_id=CITIZEN, locale="de")
        await eventually(lambda: len(discord_emulator.texts_to(CITIZEN)) == 2, what="the acknowledgement")
        assert discord_emulator.texts_to(CITIZEN)[1].startswith("Vielen Dank.")


async def test_language_command_by_dm(sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator) -> None:
    """``!language es`` is confirmed in Spanish, and ``!language`` alone then lists the languages in Spanish."""
    async with running(sqlite_store, clock, discord_emulator):
        await discord_emulator.dm(CITIZEN, "!language es")
        await eventually(lambda: len(discord_emulator.texts_to(CITIZEN)) == 1, what="the confirmation")
        assert discord_emulator.texts_to(CITIZEN)[0] == "A partir de ahora le escribiremos en español."
        await discord_emulator.dm(CITIZEN, "!language")
        await eventually(lambda: len(discord_emulator.texts_to(CITIZEN)) == 2, what="the list")
        assert discord_emulator.texts_to(CITIZEN)[1].startswith("Le escribimos en español. Idiomas que puede elegir:")
