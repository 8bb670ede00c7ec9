"""An idle worker sleeps until something can be claimed: rows behind a backing-off lane head do not make it spin."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery import DeliveryWorker
from bot.events import CitizenCommandKind
from bot.model import TELEGRAM, Address
from bot.ports import DeliveryError
from bot.storage.store import Store
from tests.bridge import Bridge
from tests.fakes import FakeClock

RETRY = 30.0


async def test_the_next_wake_up_is_the_lane_heads_retry_not_the_rows_waiting_behind_it(
    bridge: Bridge, store: Store, clock: FakeClock
) -> None:
    """The ack retries in 30 s and a reply is queued behind it: the worker's next look is in 30 s, not now.

    (It was "now": the idle worker claimed nothing and looked again at once, hundreds of times a second.)
    """
    worker = DeliveryWorker(store=store, channels=bridge.channels, outcomes=bridge.relay, backoff=lambda _a: RETRY)
    await bridge.telegram.receive(user=111, text="pothole")  # the root and the acknowledgement
    bridge.telegram.fail_next(DeliveryError("timed out"))
    await worker.drain_once()  # the root goes out, the acknowledgement fails and backs off
    await bridge.telegram.command(user=111, command=CitizenCommandKind.STATUS)  # queued behind the ack
    assert await store.next_due_at() == clock.now + timedelta(seconds=RETRY)


async def test_the_next_wake_up_waits_for_a_paused_target(bridge: Bridge, store: Store, clock: FakeClock) -> None:
    """A message due now to a chat paused for 60 s (429) is not due before the pause ends."""
    await store.pause(Address(TELEGRAM, "111"), until=clock.now + timedelta(seconds=60))
    await bridge.telegram.command(user=111, command=CitizenCommandKind.HELP)
    assert await store.next_due_at() == clock.now + timedelta(seconds=60)
