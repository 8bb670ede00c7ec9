"""Discord: nothing accepted is dropped, and a chat id that is not a number is a clear, permanent failure."""

from __future__ import annotations

import pytest

from bot.events import InboundEvent
from bot.model import DISCORD, Address, CitizenReply, Outgoing, ReplyKind
from bot.ports import DeliveryError
from tests.e2e.test_discord import CITIZEN, adapter_for
from tests.emulators.discord import DiscordEmulator
from tests.waiting import eventually


class FlakySink:
    """A relay whose database is away for the first ``failures`` tries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[InboundEvent] = []

    async def accept(self, event: InboundEvent) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("the database is away")
        self.accepted.append(event)


async def test_a_dm_is_taken_in_however_long_the_relay_is_away(discord_emulator: DiscordEmulator) -> None:
    """A DM whose intake fails eight times in a row (six used to give it up) is taken in once the relay is back."""
    adapter, sink = adapter_for(discord_emulator), FlakySink(failures=8)
    await adapter.start(sink)
    try:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="the gateway")
        await discord_emulator.dm(CITIZEN, "There is a pothole on my road")
        await eventually(lambda: len(sink.accepted) == 1, what="the DM taken in")
    finally:
        await adapter.stop()


async def test_a_chat_id_that_is_not_a_number_fails_for_good(discord_emulator: DiscordEmulator) -> None:
    """Sending to a chat id Discord could never have given fails permanently with a reason, not a crash."""
    adapter = adapter_for(discord_emulator)
    await adapter.start(FlakySink(failures=0))
    try:
        await eventually(lambda: adapter.health() == "up", what="the gateway")
        out = Outgoing(Address(DISCORD, "not-a-channel"), CitizenReply(ReplyKind.SYSTEM, "Hello", "RB-1"), (), "d1")
        with pytest.raises(DeliveryError) as raised:
            await adapter.send(out)
        assert raised.value.permanent
    finally:
        await adapter.stop()
