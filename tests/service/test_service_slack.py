"""Service levels through the real Slack adapter and the Slack emulator: saved answers and the due time on the root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.departments import Directory
from tests.backends import open_store
from tests.bridge import DIRECTORY
from tests.e2e.test_slack import CHANNELS, World, slack_world, texts_of
from tests.emulators.slack import Message, SlackEmulator
from tests.fakes import FakeClock
from tests.service.answers import ROUTING, answers
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

CITIZEN = 111
#: The relay tests' departments, with Waste promising a first answer within 8 hours.
SERVICE_DIRECTORY = Directory(
    departments=tuple(
        replace(d, first_response=timedelta(hours=8)) if d.key == "waste" else d for d in DIRECTORY.departments
    ),
    fallback=DIRECTORY.fallback,
)


@pytest.fixture
async def world(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    """The bridge with the real Slack adapter on a loopback server, the shared saved answers loaded."""
    async with (
        SlackEmulator(channels=CHANNELS) as slack,
        open_store("sqlite", tmp_path, clock=clock) as store,
        slack_world(store, clock, slack, directory=SERVICE_DIRECTORY, answers=answers(ROUTING)) as built,
    ):
        yield built


async def _spanish_case(world: World) -> Message:
    """A Spanish-speaking citizen opens a Waste case; the thread root it becomes."""
    await world.bridge.telegram.receive(user=CITIZEN, text="Mi bin no se recogió", name="Ana Ciudadana", language="es")
    world.bridge.worker.wake()
    await eventually(lambda: len(world.slack.roots("C0WASTE")) == 1, what="the thread root")
    return world.slack.roots("C0WASTE")[0]


async def test_bang_answer_sends_the_spanish_text_with_placeholders_filled(world: World) -> None:
    """``!answer received`` reaches a Spanish citizen in Spanish, with their name, the department and the reference."""
    root = await _spanish_case(world)
    await world.send(world.slack.staff_message("C0WASTE", "!answer received", thread_ts=root.ts))
    reply = await world.reply_with("Gracias, Ana Ciudadana.")
    assert reply.text == f"Gracias, Ana Ciudadana. Waste & Recycling tiene su aviso {reply.reference}."
    assert reply.signature == "Waste & Recycling"
    line = await world.thread_line(root, "Saved answer received sent by")
    assert "(es)" in line.text
    assert reply.reference in line.text


async def test_answer_without_the_citizens_language_goes_in_the_office_language(world: World) -> None:
    """``!answer bin-day`` has only English: the Spanish citizen gets the English text."""
    root = await _spanish_case(world)
    await world.send(world.slack.staff_message("C0WASTE", "!answer bin-day", thread_ts=root.ts))
    reply = await world.reply_with("Bins in your street")
    assert reply.text == f"Bins in your street are collected on Tuesdays ({reply.reference})."


async def test_unknown_answer_key_lists_the_keys_in_the_thread(world: World) -> None:
    """``!answer nope`` sends nothing to the citizen and tells staff which saved answers exist."""
    root = await _spanish_case(world)
    await world.send(world.slack.staff_message("C0WASTE", "!answer nope", thread_ts=root.ts))
    line = await world.thread_line(root, "There is no saved answer")
    assert "received, bin-day" in line.text
    await world.idle()
    assert not any("nope" in r.text for r in world.replies())


async def test_root_card_shows_when_the_answer_is_due(world: World) -> None:
    """The Slack root of a department with a first-response target says when the answer is due."""
    root = await _spanish_case(world)
    assert "*Answer due by:* <!date^" in texts_of(root.blocks)
