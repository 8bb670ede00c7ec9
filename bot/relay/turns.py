"""One event at a time per conversation, in the order the events arrived (within one process).

A citizen's first message is routed outside its transaction, so without turns a second message
sent a moment later could commit first, open the case with the wrong words and be routed by them.
Platforms hand a conversation's events over in order (Discord dispatches each as its own task,
the web chat's requests may overlap): taking turns here keeps that order into the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class Turns:
    """First come, first served per key; a key no one waits on takes no memory."""

    def __init__(self) -> None:
        self._held: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for the earlier events of ``key`` to finish (``asyncio.Lock`` wakes waiters in order)."""
        lock, users = self._held.get(key, (asyncio.Lock(), 0))
        self._held[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._held[key]
            if users == 1:
                del self._held[key]
            else:
                self._held[key] = (lock, users - 1)

    def __len__(self) -> int:
        """How many conversations have an event under way or waiting."""
        return len(self._held)
