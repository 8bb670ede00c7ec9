"""A message is sent once, whatever the timing: a worker that stops late never hands back another's claim."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.delivery import DeliveryWorker
from bot.model import CitizenReply, Outgoing, Sent
from bot.ports import Channels
from tests.bridge import Bridge
from tests.fakes import FakeCitizenPlatform, FakeClock

LEASE_SECONDS = 120


class StuckCitizenPlatform(FakeCitizenPlatform):
    """A citizen platform whose sends hang until ``gate`` opens; when ``closing`` they then raise, as on shutdown."""

    def __init__(self, *, closing: bool = False) -> None:
        super().__init__("telegram")
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.closing = closing

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        self.waiting.set()
        await self.gate.wait()
        if self.closing:
            raise ConnectionError("the session was closed")
        return await super().send(out)


def _channels(bridge: Bridge, citizen_side: FakeCitizenPlatform) -> Channels:
    return replace(bridge.channels, citizen={**bridge.channels.citizen, citizen_side.platform: citizen_side})


def _worker(bridge: Bridge, citizen_side: FakeCitizenPlatform, *, grace: float) -> DeliveryWorker:
    """A worker of another process (same database), sending citizen messages through ``citizen_side``."""
    return DeliveryWorker(
        store=bridge.store,
        channels=_channels(bridge, citizen_side),
        outcomes=bridge.relay,
        backoff=lambda _attempts: 0.0,
        grace=grace,
    )


@pytest.mark.parametrize("how", ["cut off after the grace", "raising as it closes"])
async def test_a_late_shutdown_never_makes_another_process_send_again(
    bridge: Bridge, clock: FakeClock, how: str
) -> None:
    """A stuck send whose lease another process took over is not handed back on shutdown: the citizen gets it once."""
    await bridge.telegram.receive(user=111, text="pothole")
    stuck = StuckCitizenPlatform(closing=True)
    first = _worker(bridge, stuck, grace=0.05 if how.startswith("cut") else 10)
    await first.__aenter__()
    await asyncio.wait_for(stuck.waiting.wait(), timeout=10)
    clock.advance(LEASE_SECONDS + 1)  # the lease ran out: another process takes the acknowledgement over
    slow = StuckCitizenPlatform()
    second = _worker(bridge, slow, grace=10)
    taking_over = asyncio.create_task(second.drain_once())
    await asyncio.wait_for(slow.waiting.wait(), timeout=10)
    if how.startswith("raising"):
        stuck.gate.set()
    await first.__aexit__(None, None, None)
    third = _worker(bridge, bridge.telegram, grace=10)
    await third.drain_once()
    slow.gate.set()
    await asyncio.wait_for(taking_over, timeout=10)
    await third.drain_once()
    acks = [r for r in [*bridge.telegram.sent, *slow.sent] if isinstance(r.body, CitizenReply)]
    assert len(acks) == 1
