"""A citizen who never answers the department menu: after the timeout the case goes to the fallback, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.events import CitizenCommandKind
from bot.model import CaseStatus, PostKind, ReplyKind
from bot.relay import Relay
from bot.storage.store import Store, Tx
from tests.bridge import DIRECTORY, KEYWORDS, Bridge, build_bridge
from tests.fakes import FakeClock, KeywordRouter

UNSURE = "the bin lorry damaged the road"  # the fake router offers roads and waste
TIMEOUT = 10 * 60


async def _menu_left_unanswered(bridge: Bridge, clock: FakeClock, *, seconds: float = TIMEOUT) -> int:
    await bridge.telegram.receive(user=111, text=UNSURE)
    await bridge.settle()
    clock.advance(seconds)
    done = await bridge.relay.run_due_jobs()
    await bridge.settle()
    return done


async def test_unanswered_menu_sends_the_case_to_the_fallback_after_ten_minutes(
    bridge: Bridge, clock: FakeClock
) -> None:
    """Ten minutes after the menu, a case nobody chose a department for opens in the fallback's channel."""
    await _menu_left_unanswered(bridge, clock)
    assert [thread.channel for thread in bridge.slack.threads] == ["C0GENERAL"]


async def test_fallback_thread_root_shows_the_menus_candidates(bridge: Bridge, clock: FakeClock) -> None:
    """The fallback's staff see the citizen's message and the departments the router hesitated between."""
    await _menu_left_unanswered(bridge, clock)
    root = bridge.slack.threads[0].posts[0]
    assert root.kind is PostKind.ROOT
    assert root.text.startswith(UNSURE)
    assert "within 10 minutes" in root.text
    assert "Roads & Transport, Waste & Recycling" in root.text


async def test_citizen_is_told_where_the_unanswered_case_went(bridge: Bridge, clock: FakeClock) -> None:
    """The citizen learns that no office was chosen and which department has the case now."""
    await _menu_left_unanswered(bridge, clock)
    told, ack = bridge.telegram.replies(111)[-2:]
    assert "No office was chosen" in told.text
    assert "Citizen Services" in told.text
    assert ack.kind is ReplyKind.ACK


async def test_menu_is_not_timed_out_before_its_time(bridge: Bridge, clock: FakeClock) -> None:
    """Nine minutes after the menu the case still waits for the citizen's choice."""
    assert await _menu_left_unanswered(bridge, clock, seconds=9 * 60) == 0
    assert bridge.slack.threads == []


async def test_answered_menu_never_times_out(bridge: Bridge, clock: FakeClock) -> None:
    """A citizen who chose a department keeps it: the timeout later changes nothing."""
    await bridge.telegram.receive(user=111, text=UNSURE)
    await bridge.telegram.choose(user=111, choice="roads")
    clock.advance(TIMEOUT)
    assert await bridge.relay.run_due_jobs() == 0
    await bridge.settle()
    assert [thread.channel for thread in bridge.slack.threads] == ["C0ROADS"]


async def test_menu_of_a_case_closed_meanwhile_does_not_reopen_it(bridge: Bridge, clock: FakeClock) -> None:
    """A pending case the citizen closed (new) before the timeout stays closed."""
    await bridge.telegram.receive(user=111, text=UNSURE)
    await bridge.telegram.command(user=111, command=CitizenCommandKind.NEW)
    clock.advance(TIMEOUT)
    await bridge.relay.run_due_jobs()
    await bridge.settle()
    assert bridge.slack.threads == []

    async def status(tx: Tx) -> CaseStatus | None:
        case = await tx.last_case(bridge.telegram.chat(111))
        return case.status if case else None

    assert await bridge.store.read(status) is CaseStatus.CLOSED


async def test_timeout_comes_from_the_relays_setting(store: Store, clock: FakeClock) -> None:
    """A relay set to a two-minute menu timeout sends the case to the fallback after two minutes."""
    async with build_bridge(store, clock, menu_timeout=timedelta(minutes=2)) as bridge:
        await bridge.telegram.receive(user=111, text=UNSURE)
        clock.advance(2 * 60)
        assert await bridge.relay.run_due_jobs() == 1


async def test_timeout_fires_once_when_several_relays_run_it_together(bridge: Bridge, clock: FakeClock) -> None:
    """Several processes running the due jobs at the same moment open each timed-out case once."""
    others = [
        Relay(store=bridge.store, directory=DIRECTORY, router=KeywordRouter(KEYWORDS, "general")) for _ in range(2)
    ]
    for user in range(1, 9):
        await bridge.telegram.receive(user=user, text=UNSURE)
    clock.advance(TIMEOUT)
    done = await asyncio.gather(*(relay.run_due_jobs() for relay in (bridge.relay, *others)))
    await bridge.settle()
    assert sum(done) == 8
    assert len(bridge.slack.threads) == 8
