"""Slack end to end, for what must never be lost or leak: notes however written, replies racing the root.

Built on the Slack world of ``tests.e2e.test_slack`` (real slack-bolt and slack-sdk against the emulator).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.backends import open_store
from tests.e2e.test_slack import World, slack_world
from tests.emulators.slack import SlackEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

CHANNELS = ("C0ROADS", "C0WASTE", "C0HOUSING", "C0GENERAL")


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The emulated Slack workspace with the four department channels."""
    async with SlackEmulator(channels=CHANNELS) as emulator:
        yield emulator


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock, slack: SlackEmulator) -> AsyncIterator[World]:
    """The bridge over SQLite with Slack over the Events API."""
    async with open_store("sqlite", tmp_path, clock=clock) as store, slack_world(store, clock, slack) as built:
        yield built


@pytest.mark.parametrize(
    "note", ["\u200bnote: crew is busy", "\uff4e\uff4f\uff54\uff45: crew is busy", "Note : crew is busy"]
)
async def test_disguised_note_never_reaches_the_citizen(world: World, note: str) -> None:
    """A note behind a zero-width space, in full-width letters or with a space before the colon stays internal."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", note, thread_ts=root.ts))
    await world.send(world.slack.staff_message("C0WASTE", "We are on it", thread_ts=root.ts))
    await world.reply_with("We are on it")
    assert not any("crew" in r.text for r in world.replies())


# --- staff racing the thread root ------------------------------------------------------------


async def test_staff_reply_in_a_thread_whose_root_is_not_recorded_yet_reaches_the_citizen(world: World) -> None:
    """Slack posted the root but is slow to answer its ts; a reply staff write meanwhile still reaches the citizen."""
    answer = world.slack.hold("chat.postMessage")
    await world.citizen("My bin was not collected")
    await eventually(lambda: len(world.slack.roots("C0WASTE")) == 1, what="the root, posted but not answered")
    [root] = world.slack.roots("C0WASTE")
    status, _ = await world.send(world.slack.staff_message("C0WASTE", "On our way", thread_ts=root.ts))
    answer.set()
    assert status == 200
    await world.reply_with("On our way")


async def test_staff_button_in_a_thread_whose_root_is_not_recorded_yet_acts_on_the_case(world: World) -> None:
    """A Close press on a root whose ts the bridge has not recorded yet closes the case and tells the citizen."""
    answer = world.slack.hold("chat.postMessage")
    await world.citizen("My bin was not collected")
    await eventually(lambda: len(world.slack.roots("C0WASTE")) == 1, what="the root, posted but not answered")
    [root] = world.slack.roots("C0WASTE")
    status, _ = await world.send(world.slack.button(root, "case_close"), interactive=True)
    answer.set()
    assert status == 200
    await world.reply_with("has been closed")


async def test_a_root_whose_answer_timed_out_is_not_posted_twice(
    tmp_path: Path, clock: FakeClock, slack: SlackEmulator
) -> None:
    """Slack posts the root but answers too late; the retry finds that root instead of opening a second thread."""
    async with (
        open_store("sqlite", tmp_path, clock=clock) as store,
        slack_world(store, clock, slack, api_timeout=1) as world,
    ):
        answer = world.slack.hold("chat.postMessage")
        await world.citizen("My bin was not collected")
        await eventually(lambda: slack.called("conversations.history") >= 1, what="a retry looking for its root")
        answer.set()
        await world.idle()
        [root] = slack.roots("C0WASTE")
        await world.send(slack.staff_message("C0WASTE", "Collected today", thread_ts=root.ts))
        await world.reply_with("Collected today")
