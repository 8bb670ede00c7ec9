"""Consultations on Discord end to end: !subscribe, button and typed answers, !stop, a citizen who closed DMs."""

from __future__ import annotations

from bot.consultations.model import FollowKey
from bot.consultations.service import ConsultationService
from bot.storage.store import Store, Tx
from tests.bridge import Bridge
from tests.e2e.test_discord import CITIZEN, running, sqlite_store
from tests.emulators.discord import DiscordEmulator, cannot_message_user
from tests.fakes import FakeClock
from tests.waiting import eventually

__all__ = ["sqlite_store"]  # a fixture shared with test_discord


def _service(bridge: Bridge) -> ConsultationService:
    return ConsultationService(store=bridge.store, directory=bridge.relay.directory, on_queued=bridge.worker.wake)


async def _subscribed(emulator: DiscordEmulator) -> None:
    await emulator.dm(CITIZEN, "!subscribe roads")
    await eventually(lambda: any("You follow" in t for t in emulator.texts_to(CITIZEN)), what="the confirmation")


async def _asked(bridge: Bridge, emulator: DiscordEmulator) -> int:
    created = await _service(bridge).create_consultation(
        department="roads", question="Which street first?", options=["Mill Lane", "High Street"], actor="test"
    )
    await eventually(lambda: "Which street first?" in emulator.texts_to(CITIZEN)[-1], what="the consultation")
    return int(created.id)


async def _counts(bridge: Bridge, consultation: int) -> list[int]:
    return [c.count for c in (await _service(bridge).results(consultation)).counts]


async def test_button_answers_the_consultation(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """The consultation carries one button per option; pressing one records the answer and answers the press."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await _subscribed(discord_emulator)
        consultation = await _asked(bridge, discord_emulator)
        message = discord_emulator.sent_to(CITIZEN)[-1]
        assert message.custom_ids == [f"menu:poll:{consultation}:1", f"menu:poll:{consultation}:2"]
        await discord_emulator.press(message, f"menu:poll:{consultation}:1", user_id=CITIZEN)
        await eventually(lambda: "recorded: 1. Mill Lane" in discord_emulator.texts_to(CITIZEN)[-1], what="thanks")
        assert await _counts(bridge, consultation) == [1, 0]


async def test_typed_number_answers_the_consultation(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A DM that is exactly an option's number answers, and opens no case."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await _subscribed(discord_emulator)
        consultation = await _asked(bridge, discord_emulator)
        await discord_emulator.dm(CITIZEN, "2")
        await eventually(lambda: "recorded: 2. High Street" in discord_emulator.texts_to(CITIZEN)[-1], what="thanks")
        assert await _counts(bridge, consultation) == [0, 1]
        assert bridge.slack.threads == []


async def test_stop_is_honoured(sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator) -> None:
    """After ``!stop`` an announcement reaches no one."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await _subscribed(discord_emulator)
        await discord_emulator.dm(CITIZEN, "!stop")
        await eventually(lambda: "no longer receive" in discord_emulator.texts_to(CITIZEN)[-1], what="the reply")
        announced = await _service(bridge).create_announcement(department="roads", text="Road works.", actor="test")
        assert announced.recipients == 0


async def test_closed_dms_unsubscribe(sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator) -> None:
    """A broadcast refused with Discord's 50007 unsubscribes the citizen."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await _subscribed(discord_emulator)
        discord_emulator.failures.append(cannot_message_user())
        await _service(bridge).create_announcement(department="roads", text="One.", actor="test")

        async def followers(tx: Tx) -> int:
            return len(await tx.audience([FollowKey("roads")]))

        async def unsubscribed() -> bool:
            return await bridge.store.read(followers) == 0

        await eventually(unsubscribed, what="the unsubscription")
