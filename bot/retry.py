"""Waiting between attempts: one backoff rule for every loop that tries again (connections, intake, deliveries).

``Backoff`` says how long to wait after the n-th failure in a row (exponential,
capped, optionally jittered); ``Attempts`` counts a loop's failures in a row and
sleeps what the backoff says. Both take their randomness and sleep injected, so
tests need no real waiting.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

#: Seconds to wait after the n-th failure in a row (n ≥ 1).
Delay = Callable[[int], float]
Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait ``first`` seconds after one failure, ``factor`` times longer after each more, at most ``cap``.

    ``jitter`` spreads each wait by up to ± that share (0.2: ±20%), so many
    retrying parties do not knock again at the same moment.
    """

    first: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.0
    rand: Callable[[], float] = field(default=random.random, compare=False)

    def __call__(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (the first failure waits ``first``)."""
        steps = max(0, failures - 1)
        if self.factor > 1 and self.first > 0:
            # Past the cap more steps change nothing; bounding them keeps the power from overflowing.
            steps = min(steps, math.ceil(math.log(max(self.cap / self.first, 1.0), self.factor)) + 1)
        wait = min(self.cap, self.first * self.factor**steps)
        if self.jitter:
            wait *= 1 - self.jitter + 2 * self.jitter * self.rand()
        return wait


def steady(seconds: float) -> Backoff:
    """The same wait after every failure."""
    return Backoff(first=seconds, cap=seconds, factor=1.0)


class Attempts:
    """One loop's failures in a row, and the waits they call for; a success starts the count again."""

    def __init__(self, delay: Delay, *, sleep: Sleep = asyncio.sleep) -> None:
        self._delay = delay
        self._sleep = sleep
        self.failures = 0

    def failed(self) -> float:
        """Count one more failure; returns the seconds to wait before the next attempt."""
        self.failures += 1
        return self._delay(self.failures)

    async def pause(self, seconds: float) -> None:
        """Wait before the next attempt (``seconds`` as ``failed`` said)."""
        await self._sleep(seconds)

    async def back_off(self) -> None:
        """Count one more failure and wait as long as it calls for."""
        await self.pause(self.failed())

    def succeeded(self) -> None:
        """The loop got through: the next failure waits as long as a first one."""
        self.failures = 0
