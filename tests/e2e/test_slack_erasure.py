"""Erasure reaches Slack: the bridge's own posts in the case's thread are replaced through ``chat.update``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.erased_in_flight import ERASED
from bot.privacy import erase
from bot.storage.store import Store, Tx
from tests.backends import open_store
from tests.e2e.test_slack import World, slack_world, texts_of
from tests.emulators.slack import Message, SlackEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

PHRASE = "Zanzibar-quokka-7731 lives at 12 Elm Row"


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    """The bridge over SQLite with the real Slack adapter against the emulator."""
    async with (
        SlackEmulator(channels=("C0ROADS", "C0WASTE", "C0HOUSING", "C0GENERAL")) as slack,
        open_store("sqlite", tmp_path, clock=clock) as store,
        slack_world(store, clock, slack) as built,
    ):
        yield built


async def _erase(store: Store, reference: str) -> None:
    async def work(tx: Tx) -> None:
        case = await tx.case_by_reference(reference)
        assert case is not None
        await erase(tx, [case], actor="cli:test")

    await store.atomic(work)


def _shows(world: World, post: Message) -> str:
    now = world.slack.message(post.channel, post.ts)
    assert now is not None
    return f"{now.text}\n{texts_of(now.blocks or [])}"


async def test_erasure_replaces_root_and_citizen_posts_in_slack(world: World) -> None:
    """After ``privacy erase`` the thread root and the citizen's later post read "[erased]" in Slack."""
    root = await world.open_case(f"My bin: {PHRASE}")
    await world.citizen(f"Still there: {PHRASE}")
    later = await world.thread_line(root, "Still there")

    async def case_reference(tx: Tx) -> str:
        cases = await tx.cases_of_chat(world.bridge.telegram.chat(111))
        return cases[0].reference

    reference = await world.bridge.store.read(case_reference)
    await _erase(world.bridge.store, reference)
    world.bridge.worker.wake()
    await eventually(lambda: ERASED in _shows(world, root) and ERASED in _shows(world, later), what="[erased] posts")
    assert PHRASE not in _shows(world, root)
    assert PHRASE not in _shows(world, later)
