"""First messages are routed in batches, one batch at a time, in one worker thread.

The router's sentence encoder costs milliseconds of CPU a message, much of it holding the GIL.
Routed one thread per message, first messages arriving together (a busy morning, a broadcast's
replies) contend with each other and with the event loop; routed together, the encoder reads its
weights once per batch and costs about half as much per message at eight. No timer: a question
waits only while an earlier batch is under way, and every question that came meanwhile goes in
the next one.

A batch the router fails on is routed again one question at a time, so one message that trips a
router bug fails alone (and is set aside after its tries), never the messages routed beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.ports import RouteDecision, RoutingPolicy
from bot.relay.casework import RoutingQuestion


class RoutingBatches:
    """Asks ``router`` about first messages, those waiting at once in one ``route_all`` call."""

    def __init__(self, router: RoutingPolicy) -> None:
        self._router = router
        self._waiting: list[tuple[RoutingQuestion, asyncio.Future[RouteDecision]]] = []
        self._running: asyncio.Task[None] | None = None

    async def decide(self, question: RoutingQuestion) -> RouteDecision:
        """The router's decision on ``question``, from the next batch."""
        decided: asyncio.Future[RouteDecision] = asyncio.get_running_loop().create_future()
        self._waiting.append((question, decided))
        if self._running is None:
            self._running = asyncio.create_task(self._run(), name="routing-batches")
        return await asyncio.shield(decided)  # a cancelled caller leaves the batch to the others

    async def _run(self) -> None:
        batch: list[tuple[RoutingQuestion, asyncio.Future[RouteDecision]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._route(batch)
        finally:  # stopped (the app shuts down): nobody is left waiting for an answer
            for _, decided in (*batch, *self._waiting):
                decided.cancel()
            self._waiting = []
            self._running = None

    async def _route(self, batch: Sequence[tuple[RoutingQuestion, asyncio.Future[RouteDecision]]]) -> None:
        questions = [(question.text, question.language) for question, _ in batch]
        try:
            decisions = await asyncio.to_thread(self._router.route_all, questions)
        except Exception as error:  # noqa: BLE001  # handed to the caller whose question it was
            if len(batch) > 1:  # ask each alone: only the question at fault fails
                for one in batch:
                    await self._route([one])
                return
            [(_, decided)] = batch
            if not decided.done():
                decided.set_exception(error)
            return
        for (_, decided), decision in zip(batch, decisions, strict=True):
            if not decided.done():
                decided.set_result(decision)
