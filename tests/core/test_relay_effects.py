"""Side effects of the relay happen once, after the commit, however often ``Store.atomic`` runs a body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from bot.metrics import Metrics
from bot.model import TELEGRAM
from bot.relay import Limits, Relay
from bot.storage.store import Store, Tx
from tests.bridge import DIRECTORY, KEYWORDS
from tests.fakes import FakeCitizenPlatform, KeywordRouter

T = TypeVar("T")


class RacingStore:
    """The real store, but each transaction body loses a unique-key race once: it runs, rolls back, runs again.

    ``bodies_run`` counts the bodies that ran to their end (not one that stopped to ask the router).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.bodies_run = 0

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        lost = False

        async def racing(tx: Tx) -> T:
            nonlocal lost
            result = await work(tx)
            self.bodies_run += 1
            if not lost:
                lost = True
                raise IntegrityError("INSERT …", {}, Exception("a concurrent transaction inserted the same key"))
            return result

        return await self._store.atomic(racing)


async def _first_message_through_a_race(store: Store) -> tuple[Metrics, RacingStore]:
    """A citizen's first message, accepted by a relay whose transaction body had to run twice."""
    metrics = Metrics()
    racing = RacingStore(store)
    relay = Relay(
        store=racing, directory=DIRECTORY, router=KeywordRouter(KEYWORDS, "general"), observer=metrics, limits=Limits()
    )
    telegram = FakeCitizenPlatform(TELEGRAM)
    await telegram.start(relay)
    await telegram.receive(user=111, text="My bin was not collected")
    return metrics, racing


async def test_a_retried_transaction_counts_the_message_once(store: Store) -> None:
    """A message whose transaction ran twice is counted once in bridge_messages_in_total."""
    metrics, racing = await _first_message_through_a_race(store)
    text = metrics.render().decode()
    assert racing.bodies_run == 2
    assert 'bridge_messages_in_total{platform="telegram"} 1.0' in text


async def test_a_retried_transaction_counts_the_routing_decision_once(store: Store) -> None:
    """A case opened by a transaction that ran twice is counted once in bridge_routing_decisions_total."""
    metrics, racing = await _first_message_through_a_race(store)
    text = metrics.render().decode()
    assert racing.bodies_run == 2
    assert 'bridge_routing_decisions_total{department="waste"} 1.0' in text
