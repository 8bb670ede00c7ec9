"""Keeping this process's Discord sends within Discord's limits, and discord.py's own bookkeeping of them cheap.

discord.py paces each route's bucket from the ``X-RateLimit-*`` headers, but of the bot's
global limit (50 requests a second) it learns only from a 429: a burst (the outbox catching
up after a pause) is answered 429 over and over, and after five tries the send fails back
to the outbox, which then holds the whole broadcast. ``Pace`` spaces sends out beforehand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import discord.http


class PaceWaitError(Exception):
    """Sending now would mean waiting ``seconds``, longer than the pace may hold a send."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Discord pace: next send possible in {seconds:.1f}s")
        self.seconds = seconds


class Pace:
    """Spaces this process's sends ``per_second`` apart; each reserves its slot first, so they queue fairly."""

    def __init__(
        self,
        per_second: float = 50.0,
        *,
        max_wait: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        """Return when the next send may go; raise ``PaceWaitError`` rather than wait longer than ``max_wait``."""
        now = self._clock()
        slot = max(now, self._next)
        if slot - now > self._max_wait:
            raise PaceWaitError(slot - now)
        self._next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)


class AmortizedBucketExpiry:
    """discord.py's look for idle rate-limit buckets, made only when the buckets have doubled since the last.

    discord.py keeps a bucket per channel and, once it holds 256, looks through all of them for
    ones idle five minutes each time it makes a new one. A broadcast makes one per DM channel, so
    each send looked through every channel sent to in the last five minutes: quadratic (18 s of CPU
    for 10,000 DMs, and a 100,000 one could not keep its pace). Looking when the count has doubled
    evicts the same buckets, a little later, at a constant cost per send.
    """

    def __init__(self, http: discord.http.HTTPClient) -> None:
        self._http = http
        self._look = http._try_clear_expired_ratelimits  # noqa: SLF001  # discord.py's own eviction, kept as is
        self._at = 0

    def __call__(self) -> None:
        """Evict idle buckets if their count has doubled since the last look."""
        if len(self._http._buckets) < self._at:  # noqa: SLF001  # as above
            return
        self._look()
        self._at = 2 * len(self._http._buckets)  # noqa: SLF001  # as above


def amortize_bucket_expiry(http: discord.http.HTTPClient) -> None:
    """Make ``http`` look for idle buckets only when their count has doubled (see ``AmortizedBucketExpiry``)."""
    http._try_clear_expired_ratelimits = AmortizedBucketExpiry(http)  # type: ignore[method-assign]  # noqa: SLF001  # per client
