"""The due-jobs timer task and the learned examples the app hands the router at start-up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.app import learned_examples, next_job_due
from bot.due_jobs import DueJobRunner
from bot.events import StaffActionKind
from bot.storage.store import Store, Tx
from config.routing_file import load_routing_text
from tests.bridge import Bridge
from tests.fakes import FakeClock
from tests.learned_cli import BRIDGE_ROUTING, routes_learned


async def test_timer_task_sleeps_until_the_earliest_job_is_due(store: Store, clock: FakeClock) -> None:
    """With a job due in 90 s, the timer task looks again in 90 s, not at its 30 s poll nor later."""

    async def schedule(tx: Tx) -> None:
        await tx.schedule_job("test", due_at=tx.now + timedelta(seconds=90))

    await store.atomic(schedule)
    runner = DueJobRunner(run_due=_nothing, next_due=lambda: next_job_due(store), clock=clock)
    assert await runner.tick() == 30.0
    clock.advance(75)
    assert await runner.tick() == 15.0


async def test_timer_task_polls_when_no_job_is_waiting(store: Store, clock: FakeClock) -> None:
    """With no job at all, the timer task looks again after its poll interval (another process may add one)."""
    runner = DueJobRunner(run_due=_nothing, next_due=lambda: next_job_due(store), clock=clock)
    assert await runner.tick() == 30.0


async def test_unknown_job_kind_is_dropped_not_retried_forever(bridge: Bridge) -> None:
    """A job no handler knows (left by another version) is done with, so it cannot block the others."""

    async def schedule(tx: Tx) -> None:
        await tx.schedule_job("from-the-future", due_at=tx.now)

    await bridge.store.atomic(schedule)
    assert await bridge.relay.run_due_jobs() == 1
    assert await bridge.relay.run_due_jobs() == 0


async def test_router_gets_learned_examples_only_when_the_routing_file_allows(bridge: Bridge) -> None:
    """Confirmed examples reach the router at start-up only with learning.use_confirmed_examples on."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.TRANSFER, "roads")
    off = load_routing_text(BRIDGE_ROUTING, "routing.yaml")
    on = load_routing_text(BRIDGE_ROUTING + "learning: {use_confirmed_examples: true}\n", "routing.yaml")
    assert await learned_examples(bridge.store, off) == []
    [example] = await learned_examples(bridge.store, on)
    assert (example.text, example.department) == ("My bin was not collected", "roads")


async def test_routes_learned_with_nothing_learned_says_so(bridge: Bridge, tmp_path: Path) -> None:
    """Before any transfer or menu choice, ``routes learned`` says where examples come from."""
    assert "no learned examples yet" in await routes_learned(bridge.store, tmp_path)


async def _nothing() -> int:
    return 0
