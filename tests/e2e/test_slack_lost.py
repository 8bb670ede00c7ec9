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
