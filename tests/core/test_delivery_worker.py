"""The delivery worker running in the background, as ``civic-bridge run`` runs it."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.delivery import DeliveryWorker
from bot.model import CitizenReply, Outgoing, Sent
from bot.storage.store import Store
from tests.bridge import Bridge
from tests.fakes import FakeCitizenPlatform
from tests.waiting import eventually


class SlowCitizenPlatform(FakeCitizenPlatform):
    """A citizen platform whose sends wait until the test lets them through."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        self.waiting.set()
        await self.gate.wait()
        return await super().send(out)


def _worker(bridge: Bridge, citizen_side: FakeCitizenPlatform, *, grace: float) -> DeliveryWorker:
    """A background worker sending citizen messages through ``citizen_side``, rung by the relay."""
    worker = DeliveryWorker(
        store=bridge.store,
        channels=replace(bridge.channels, citizen={**bridge.channels.citizen, citizen_side.platform: citizen_side}),
        outcomes=bridge.relay,
        backoff=lambda _attempts: 0.0,
        grace=grace,
    )
    bridge.relay._on_queued = worker.wake
    return worker


async def test_background_worker_delivers_without_being_asked(bridge: Bridge) -> None:
    """A queued message is delivered by the running worker, woken by the relay."""
    async with bridge.worker:
        await bridge.telegram.receive(user=111, text="pothole")
        await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread root")


async def test_shutdown_lets_a_send_under_way_finish(bridge: Bridge) -> None:
    """Stopping the worker while a send is under way waits for it instead of cutting it off."""
    slow = SlowCitizenPlatform()
    await slow.start(bridge.relay)
    async with _worker(bridge, slow, grace=10):
        await slow.receive(user=111, text="pothole")
        await asyncio.wait_for(slow.waiting.wait(), timeout=10)
        asyncio.get_running_loop().call_later(0.05, slow.gate.set)
    assert len(slow.sent) == 1


async def test_shutdown_past_the_grace_releases_the_claim(bridge: Bridge, store: Store) -> None:
    """A send still stuck when the grace runs out is released: due again at once, nothing lost."""
    slow = SlowCitizenPlatform()
    await slow.start(bridge.relay)
    async with _worker(bridge, slow, grace=0.05):
        await slow.receive(user=111, text="pothole")
        await asyncio.wait_for(slow.waiting.wait(), timeout=10)
    assert slow.sent == []
    stats = await store.outbox_stats()
    assert stats.depth >= 1
    slow.gate.set()
    async with _worker(bridge, slow, grace=10) as again:
        again.wake()
        await eventually(lambda: len(slow.sent) == 1, what="the released delivery")
