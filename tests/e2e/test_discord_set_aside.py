"""Discord gateway: bad text is cleaned, and a DM that keeps failing is set aside while later DMs go in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.model import DISCORD
from bot.ports import RoutingPolicy
from bot.storage.store import Store
from tests.bridge import KEYWORDS, Bridge, build_bridge
from tests.e2e.poisoned import POISON, BrokenRouter, set_aside_events
from tests.e2e.test_discord import adapter_for
from tests.emulators.discord import DiscordEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

CITIZEN = 222222222222222222
OTHERS = (333333333333333331, 333333333333333332, 333333333333333333)


@asynccontextmanager
async def running(
    store: Store, clock: FakeClock, emulator: DiscordEmulator, *, router: RoutingPolicy | None = None
) -> AsyncIterator[Bridge]:
    """The bridge with the real Discord adapter on the emulator's gateway, its worker running."""
    adapter = adapter_for(emulator)
    async with build_bridge(store, clock, citizen=[adapter], router=router) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="the Discord gateway to be ready")
        async with bridge.worker:
            yield bridge


async def test_a_nul_byte_in_a_dm_and_its_name_is_dropped_and_relayed(
    store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A DM whose text and name hold a NUL byte opens its case with the NUL dropped, on each backend.

    No lone surrogate here: discord.py parses the gateway with orjson, which refuses one before the adapter sees it.
    """
    async with running(store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(CITIZEN, "pot\x00hole on Mill Lane", name="A\x00da Lovelace")
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 1, what="the acknowledgement")
        [thread] = bridge.slack.threads
        assert (thread.posts[0].text, thread.posts[0].card.citizen_name) == ("pothole on Mill Lane", "Ada Lovelace")


async def test_a_dm_that_keeps_failing_is_set_aside_and_later_dms_open_their_cases(
    store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A DM the relay fails on every time is set aside after three tries; three other citizens' DMs open cases."""
    router = BrokenRouter(KEYWORDS, "general")
    async with running(store, clock, discord_emulator, router=router) as bridge:
        await discord_emulator.dm(CITIZEN, f"{POISON} pill")
        for user in OTHERS:
            await discord_emulator.dm(user, "pothole on Mill Lane")
        await eventually(lambda: len(bridge.slack.threads) == len(OTHERS), what="three cases from good DMs")
        await eventually(lambda: all(discord_emulator.sent_to(user) for user in OTHERS), what="three acks")

        async def set_aside() -> bool:
            return len(await set_aside_events(store)) == 1

        await eventually(set_aside, what="the failing DM set aside")
        [aside] = await set_aside_events(store)
        assert (aside.platform, aside.kind, aside.tries, aside.error) == (DISCORD, "CitizenMessage", 3, "ValueError")
