"""Slack intake (Events API and Socket Mode): bad text is cleaned, a staff event that keeps failing is set aside."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.model import SLACK, Address
from bot.storage.store import Store, Tx
from tests.e2e.poisoned import CLEAN_TEXT, DIRTY_TEXT, POISON, BrokenAnswers, set_aside_events
from tests.e2e.test_slack import CHANNELS, World, slack_world
from tests.emulators.slack import Message, SlackEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

FIRST, SECOND = 111, 112


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The emulated workspace, where one officer's name holds a NUL byte and a lone surrogate."""
    async with SlackEmulator(channels=CHANNELS, users={"U0GRACE": "Gr\x00ace \ud800 Officer"}) as emulator:
        yield emulator


async def _open(world: World, user: int, text: str, channel: str) -> Message:
    """A citizen's first message, and the root it becomes in ``channel``."""
    await world.bridge.telegram.receive(user=user, text=text)
    world.bridge.worker.wake()
    await eventually(lambda: len(world.slack.roots(channel)) == 1, what=f"the root in {channel}")
    return world.slack.roots(channel)[0]


def _replied(world: World, user: int, text: str) -> bool:
    return any(text in reply.text for reply in world.bridge.telegram.replies(user))


async def _authors(store: Store, thread: Address) -> list[str]:
    async def read(tx: Tx) -> list[str]:
        case = await tx.case_by_thread(thread)
        assert case is not None
        return [m.author for m in await tx.messages(case.id) if m.author]

    return await store.read(read)


async def test_dirty_staff_reply_over_the_events_api_is_cleaned_stored_and_relayed(
    store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """A staff reply whose text and author's name hold a NUL and a lone surrogate is taken (200), relayed cleaned."""
    async with slack_world(store, clock, slack) as world:
        root = await _open(world, FIRST, "My bin was not collected", "C0WASTE")
        status, _ = await world.send(slack.staff_message("C0WASTE", DIRTY_TEXT, thread_ts=root.ts))
        assert status == 200
        await eventually(lambda: _replied(world, FIRST, CLEAN_TEXT), what="the cleaned reply")
        assert "Grace \ufffd Officer" in await _authors(store, Address(SLACK, "C0WASTE", root.ts))


async def test_dirty_staff_reply_over_socket_mode_is_cleaned_stored_and_relayed(
    store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """Over Socket Mode the same dirty reply is acknowledged and reaches the citizen cleaned."""
    async with slack_world(store, clock, slack, socket_mode=True) as world:
        await eventually(lambda: world.adapter.health() == "up", what="the Socket Mode connection")
        root = await _open(world, FIRST, "My bin was not collected", "C0WASTE")
        envelope = await slack.push(slack.staff_message("C0WASTE", DIRTY_TEXT, thread_ts=root.ts))
        await eventually(lambda: envelope in slack.acks, what="the ack")
        world.bridge.worker.wake()
        await eventually(lambda: _replied(world, FIRST, CLEAN_TEXT), what="the cleaned reply")


async def test_staff_event_failing_over_the_events_api_is_set_aside_on_slacks_third_try(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """A staff command the relay fails on is refused twice (Slack retries), set aside the third time; replies go on."""
    async with slack_world(sqlite_store, clock, slack, answers=BrokenAnswers()) as world:
        bins = await _open(world, FIRST, "My bin was not collected", "C0WASTE")
        roads = await _open(world, SECOND, "Pothole on Mill Lane", "C0ROADS")
        poisoned = slack.staff_message("C0WASTE", f"!answer {POISON}", thread_ts=bins.ts)
        statuses = [(await world.send(poisoned, retry_num=n))[0] for n in (None, 1, 2)]
        assert statuses == [500, 500, 200]
        await world.send(slack.staff_message("C0ROADS", "Fixed on Monday", thread_ts=roads.ts))
        await world.send(slack.staff_message("C0WASTE", "Collected today", thread_ts=bins.ts))
        await eventually(lambda: _replied(world, SECOND, "Fixed on Monday"), what="the other citizen's reply")
        await eventually(lambda: _replied(world, FIRST, "Collected today"), what="the next reply in the same thread")
        [aside] = await set_aside_events(sqlite_store)
        assert (aside.platform, aside.kind, aside.tries, aside.error) == (SLACK, "StaffAction", 3, "ValueError")


async def test_staff_event_failing_over_socket_mode_is_set_aside_and_later_events_go_in(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """Over Socket Mode a staff command that keeps failing is set aside by its third delivery; later replies arrive."""
    async with slack_world(sqlite_store, clock, slack, socket_mode=True, answers=BrokenAnswers()) as world:
        await eventually(lambda: world.adapter.health() == "up", what="the Socket Mode connection")
        bins = await _open(world, FIRST, "My bin was not collected", "C0WASTE")
        roads = await _open(world, SECOND, "Pothole on Mill Lane", "C0ROADS")
        poisoned = slack.staff_message("C0WASTE", f"!answer {POISON}", thread_ts=bins.ts)
        # an envelope the app fails on is not acknowledged, so Slack sends it again: three times here
        envelopes = [await slack.push(poisoned) for _ in range(3)]

        async def set_aside() -> bool:
            return len(await set_aside_events(sqlite_store)) == 1

        await eventually(set_aside, what="the failing event set aside")
        await eventually(lambda: any(e in slack.acks for e in envelopes), what="the set-aside delivery acknowledged")
        assert sum(e in slack.acks for e in envelopes) == 1  # the two failed deliveries stay unacknowledged
        await slack.push(slack.staff_message("C0ROADS", "Fixed on Monday", thread_ts=roads.ts))
        world.bridge.worker.wake()
        await eventually(lambda: _replied(world, SECOND, "Fixed on Monday"), what="the other citizen's reply")
