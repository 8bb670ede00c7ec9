"""Escalation on the real Slack adapter: the reminder in the thread, the overdue root, the escalation channel post."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.departments import Directory, Escalation
from bot.model import SLACK, Address
from tests.backends import open_store
from tests.bridge import DIRECTORY
from tests.e2e.test_slack import CHANNELS, World, slack_world, texts_of
from tests.emulators.slack import SlackEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

#: Waste answers within 8h (round the clock) and escalates to #waste-leads, mentioning its leads' group.
ESCALATING = Directory(
    departments=tuple(
        replace(
            d,
            first_response=timedelta(hours=8),
            escalation=Escalation(channel=Address(SLACK, "C0LEADS"), mention="S0WASTELEADS"),
        )
        if d.key == "waste"
        else d
        for d in DIRECTORY.departments
    ),
    fallback=DIRECTORY.fallback,
)


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    """The bridge with the real Slack adapter on a loopback server, Waste escalating to C0LEADS."""
    async with (
        SlackEmulator(channels=(*CHANNELS, "C0LEADS")) as slack,
        open_store("sqlite", tmp_path, clock=clock) as store,
        slack_world(store, clock, slack, directory=ESCALATING) as built,
    ):
        yield built


async def test_reminder_then_breach_reach_slack(world: World, clock: FakeClock) -> None:
    """At 80% a reminder lands in the thread; at the due time the root says overdue and #leads is pinged once."""
    root = await world.open_case()
    clock.advance(timedelta(hours=6, minutes=24).total_seconds())
    assert await world.bridge.relay.run_due_jobs() == 1
    world.bridge.worker.wake()
    await world.thread_line(root, "Reminder: most of the time to answer has passed.")
    clock.advance(timedelta(hours=1, minutes=36).total_seconds())
    assert await world.bridge.relay.run_due_jobs() == 1
    world.bridge.worker.wake()
    await eventually(lambda: len(world.slack.roots("C0LEADS")) == 1, what="the escalation post")
    [post] = world.slack.roots("C0LEADS")
    assert post.text.startswith(":warning: <!subteam^S0WASTELEADS> Overdue answer: case ")
    assert root.ts != post.ts
    await eventually(lambda: ":warning: *Overdue:*" in texts_of(world.slack.roots("C0WASTE")[0].blocks), what="root")
