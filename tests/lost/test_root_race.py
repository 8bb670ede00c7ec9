"""A staff reply in a thread whose root is posted but not yet recorded reaches the citizen (the e2e flake's cause)."""

from __future__ import annotations

import asyncio

from bot.model import Outgoing, PostKind, Sent, ThreadPost
from bot.storage.store import Store
from tests.bridge import build_bridge
from tests.fakes import FakeClock, FakeDepartmentPlatform
from tests.waiting import eventually


class SlowToAnswerSlack(FakeDepartmentPlatform):
    """Posts a root at once (staff see it) but answers the bridge only when ``answer`` is set."""

    def __init__(self) -> None:
        super().__init__("slack")
        self.posted = asyncio.Event()
        self.answer = asyncio.Event()

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        sent = await super().send(out)
        if out.body.kind is PostKind.ROOT:
            self.posted.set()
            await self.answer.wait()
        return sent


async def test_a_reply_before_the_root_is_recorded_reaches_the_citizen(store: Store, clock: FakeClock) -> None:
    """Staff answer in the new thread while the bridge still waits for the root's answer: the citizen gets it."""
    slack = SlowToAnswerSlack()
    async with build_bridge(store, clock, department=[slack]) as bridge, bridge.worker:
        await bridge.telegram.receive(user=111, text="pothole on Mill Lane")
        await asyncio.wait_for(slack.posted.wait(), timeout=10)
        await slack.reply(slack.threads[0], "We are on our way")
        slack.answer.set()
        bridge.worker.wake()
        await eventually(lambda: "We are on our way" in bridge.telegram.texts(111), what="the staff reply")
