"""Flood control for Telegram sends: about one message a second per chat and 25 a second overall.

Telegram answers 429 when a bot goes faster. Waiting a little here is cheaper
than being told to wait; a wait longer than ``max_wait`` is handed back to the
outbox (``FloodWait``), which keeps the message and tries again later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_PRUNE_AT = 10_000


class FloodWaitError(Exception):
    """Sending now would mean waiting ``seconds``, longer than the limiter may hold a send."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: next send possible in {seconds:.1f}s")
        self.seconds = seconds


class FloodControl:
    """Spaces sends out: ``per_chat_interval`` seconds apart in one chat, ``overall_rate`` a second in all.

    Each send reserves the earliest slot both limits allow and sleeps until it;
    reservations are made before sleeping, so concurrent sends queue fairly.
    """

    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        overall_rate: float = 25.0,
        max_wait: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._per_chat_interval = per_chat_interval
        self._overall_interval = 1.0 / overall_rate
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._next_overall = 0.0
        self._next_in_chat: dict[str, float] = {}

    async def wait(self, chat: str) -> None:
        """Return when a message may go to ``chat``; raise ``FloodWaitError`` rather than wait too long."""
        now = self._clock()
        slot = max(now, self._next_overall, self._next_in_chat.get(chat, now))
        delay = slot - now
        if delay > self._max_wait:
            raise FloodWaitError(delay)
        self._next_overall = slot + self._overall_interval
        self._next_in_chat[chat] = slot + self._per_chat_interval
        if len(self._next_in_chat) > _PRUNE_AT:
            self._next_in_chat = {key: at for key, at in self._next_in_chat.items() if at > now}
        if delay > 0:
            await self._sleep(delay)
