"""First messages arriving together are routed together, one batch at a time; a bad one fails alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from bot.ports import RouteDecision
from bot.relay.casework import RoutingQuestion
from bot.relay.routing_batches import RoutingBatches
from tests.bridge import KEYWORDS
from tests.fakes import FakeDecision, KeywordRouter

POISON = "xyzzy"


class BatchRecorder(KeywordRouter):
    """Routes as ``KeywordRouter``; records each batch's size, holds the first batch until ``go``, fails on POISON."""

    def __init__(self) -> None:
        super().__init__(KEYWORDS, "general")
        self.batches: list[int] = []
        self.go = threading.Event()

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> list[FakeDecision]:
        self.batches.append(len(questions))
        if len(self.batches) == 1:
            self.go.wait(timeout=5)
        if any(POISON in text for text, _ in questions):
            raise ValueError("a bug in the router")
        return super().route_all(questions)


async def _held_first(
    batches: RoutingBatches, router: BatchRecorder, texts: list[str]
) -> list[asyncio.Task[RouteDecision]]:
    """One question goes alone (and is held); ``texts`` are asked while it is under way."""
    first = asyncio.create_task(batches.decide(RoutingQuestion("My bin was not collected", "en")))
    await asyncio.sleep(0.05)  # the first batch is in its thread
    later = [asyncio.create_task(batches.decide(RoutingQuestion(text, "en"))) for text in texts]
    await asyncio.sleep(0.05)
    router.go.set()
    return [first, *later]


async def test_questions_asked_during_a_batch_go_together_in_the_next() -> None:
    """Three first messages that came while one was routed are routed in one batch, each with its own answer."""
    router = BatchRecorder()
    batches = RoutingBatches(router)
    tasks = await _held_first(batches, router, ["pothole on Mill Lane", "my rent is too high", "hello there"])
    decisions = await asyncio.gather(*tasks)
    assert router.batches == [1, 3]
    assert [d.department for d in decisions] == ["waste", "roads", "housing", "general"]


async def test_a_question_the_router_fails_on_fails_alone() -> None:
    """A message that trips a router bug raises for its own event only: the others in its batch are routed."""
    router = BatchRecorder()
    batches = RoutingBatches(router)
    tasks = await _held_first(batches, router, ["pothole on Mill Lane", f"{POISON} please", "my rent is too high"])
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [getattr(r, "department", None) for r in results] == ["waste", "roads", None, "housing"]
    assert isinstance(results[2], ValueError)


async def test_a_caller_that_gives_up_leaves_the_others_their_answers() -> None:
    """An event cancelled while waiting (its platform went away) does not cancel the batch it was in."""
    router = BatchRecorder()
    batches = RoutingBatches(router)
    tasks = await _held_first(batches, router, ["pothole on Mill Lane", "my rent is too high"])
    tasks[1].cancel()
    with pytest.raises(asyncio.CancelledError):
        await tasks[1]
    assert [d.department for d in await asyncio.gather(tasks[0], tasks[2])] == ["waste", "housing"]
