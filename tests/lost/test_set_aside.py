"""Set-aside events: counted in /healthz, listed for an admin without text, retried once the cause is fixed."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import events_cli
from bot.http import HealthCheck, build_web_app
from bot.metrics import Metrics
from bot.relay import Relay
from bot.storage import migrate
from bot.storage.store import Store, Tx
from tests.bridge import DIRECTORY, KEYWORDS, Bridge
from tests.fakes import FakeDecision, KeywordRouter

POISON = "poison"


class BrokenRouter(KeywordRouter):
    """A router with a bug: it raises on one word."""

    def route(self, text: str, *, language: str | None = None) -> FakeDecision:
        if POISON in text:
            raise ValueError("a bug in the router")
        return super().route(text, language=language)


async def _poisoned(bridge: Bridge) -> None:
    """A citizen's message that fails every time is offered three times, as a platform redelivers it."""
    broken = Relay(store=bridge.store, directory=DIRECTORY, router=BrokenRouter(KEYWORDS, "general"))
    bridge.telegram.sink = broken
    offer = {"user": 111, "text": f"{POISON} on Mill Lane", "name": "Ada Private", "event_id": "poisoned-1"}
    for _ in range(2):
        with pytest.raises(ValueError, match="bug"):
            await bridge.telegram.receive(**offer)  # type: ignore[arg-type]  # the fake's keyword arguments
    await bridge.telegram.receive(**offer)  # type: ignore[arg-type]  # as above


async def test_a_set_aside_event_is_counted_in_healthz(bridge: Bridge, store: Store) -> None:
    """/healthz shows how many events are set aside."""
    await _poisoned(bridge)
    metrics = Metrics()
    health = HealthCheck(
        store=store,
        adapters=bridge.adapters,
        metrics=metrics,
        stuck_after=60,
        schema=lambda: migrate.current_revision(store.engine),
    )
    async with TestClient(TestServer(build_web_app(health=health, metrics=metrics, max_body=1024))) as client:
        body = await (await client.get("/healthz")).json()
    assert body["set_aside"] == 1


async def test_events_list_names_the_event_and_error_but_not_its_text(bridge: Bridge, store: Store) -> None:
    """The admin's list shows platform, event id and error class; never the message or the name."""
    await _poisoned(bridge)
    listing = await events_cli.list_events(store)
    assert ("telegram" in listing, "poisoned-1" in listing, "ValueError" in listing) == (True, True, True)
    assert ("Mill Lane" in listing, "Ada" in listing) == (False, False)


async def test_events_retry_takes_the_event_in_once_the_cause_is_fixed(bridge: Bridge, store: Store) -> None:
    """After a fix, `events retry ID` opens the case and the event leaves the list."""
    await _poisoned(bridge)

    async def ids(tx: Tx) -> list[int]:
        return [e.id for e in await tx.set_aside_events()]

    [set_aside_id] = await store.read(ids)
    code, _line = await events_cli.retry_event(bridge.relay, set_aside_id)
    await bridge.settle()
    assert (code, len(bridge.slack.threads), await store.read(ids)) == (0, 1, [])


async def test_events_retry_that_fails_again_keeps_the_event_aside(bridge: Bridge, store: Store) -> None:
    """A retry that fails again says so and leaves the event in the list."""
    await _poisoned(bridge)
    broken = Relay(store=store, directory=DIRECTORY, router=BrokenRouter(KEYWORDS, "general"))

    async def ids(tx: Tx) -> list[int]:
        return [e.id for e in await tx.set_aside_events()]

    [set_aside_id] = await store.read(ids)
    code, line = await events_cli.retry_event(broken, set_aside_id)
    assert (code, "ValueError" in line, await store.read(ids)) == (1, True, [set_aside_id])
