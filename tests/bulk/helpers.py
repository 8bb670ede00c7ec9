"""What the bulk tests share: broadcast bodies, queueing them, reading rows back, and time that only moves on demand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.model import Address, CitizenReply, Delivery, ReplyKind, Side
from bot.storage.outbox import delivery_from_row
from bot.storage.store import Store, Tx
from bot.storage.tables import deliveries
from tests.fakes import FakeClock

NOTICE = CitizenReply(ReplyKind.SYSTEM, "Mill Lane is closed on Saturday. Reply STOP to stop these notices.", "")


async def broadcast(store: Store, targets: Sequence[Address], body: CitizenReply = NOTICE) -> int:
    """Queue one bulk delivery of ``body`` per target, as a broadcast does."""

    async def queue(tx: Tx) -> int:
        return await tx.enqueue_bulk(Side.CITIZEN, [(target, body) for target in targets])

    return await store.atomic(queue)


async def all_deliveries(store: Store) -> list[Delivery]:
    """Every outbox row, oldest first."""

    async def rows(tx: Tx) -> list[Delivery]:
        return [delivery_from_row(row) for row in await tx.connection.execute(select(deliveries).order_by("id"))]

    return await store.read(rows)


class VirtualTime:
    """Sleeps that end only when the test moves ``clock`` past them, in deadline order: no real waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._sleepers: list[tuple[Any, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has moved ``seconds`` on."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.clock.now + timedelta(seconds=seconds), next(self._order), future))
        await future

    async def advance(self, seconds: float) -> None:
        """Move the clock on, waking each sleeper at its deadline and letting it run before the next one."""
        end = self.clock.now + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= end:
            deadline, _, future = heapq.heappop(self._sleepers)
            self.clock.now = max(self.clock.now, deadline)
            if not future.done():
                future.set_result(None)
            for _ in range(10):  # the woken send reaches the platform before time moves again
                await asyncio.sleep(0)
        self.clock.now = end
