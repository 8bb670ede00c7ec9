"""Pacing a platform's sends so it never has to say "slow down": per chat, and overall.

Telegram answers 429 beyond about one message a second per chat and 30 a second overall;
Discord beyond 50 requests a second a bot (of which discord.py learns only from a 429; its
per-channel buckets it paces itself from the headers). Waiting a little here is cheaper than
being told to wait; a wait longer than ``max_wait`` is handed back to the outbox
(``PaceWaitError``), which keeps the message and tries again later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_PRUNE_AT = 10_000


class PaceWaitError(Exception):
    """Sending now would mean waiting ``seconds``, longer than the limiter may hold a send."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"pacing: next send possible in {seconds:.1f}s")
        self.seconds = seconds


class SendPace:
    """Spaces sends out: ``per_chat_interval`` seconds apart in one chat (0: none), ``overall_rate`` a second in all.

    Each send reserves its slot before sleeping, so concurrent sends queue fairly.
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
        """Return when a message may go to ``chat``; raise ``PaceWaitError`` rather than wait too long.

        The chat's slot is reserved first (messages to one chat keep their order);
        the overall slot is taken once the chat is ready, so a message held back by
        its chat's interval does not hold back other chats.
        """
        now = self._clock()
        chat_slot = max(now, self._next_in_chat.get(chat, now))
        if chat_slot - now > self._max_wait:
            raise PaceWaitError(chat_slot - now)
        if self._per_chat_interval > 0:
            self._next_in_chat[chat] = chat_slot + self._per_chat_interval
        if len(self._next_in_chat) > _PRUNE_AT:
            self._next_in_chat = {key: at for key, at in self._next_in_chat.items() if at > now}
        if chat_slot > now:
            await self._sleep(chat_slot - now)
            now = self._clock()
        slot = max(now, self._next_overall)
        if slot - now > self._max_wait:
            raise PaceWaitError(slot - now)
        self._next_overall = slot + self._overall_interval
        if slot > now:
            await self._sleep(slot - now)
