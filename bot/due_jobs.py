"""The timer task: runs the relay's due jobs when they fall due, in every process (each job fires once).

Jobs live in the database (``bot.storage.jobs``): any process may schedule one, and
whichever process takes it first does it, in the transaction that deletes it. This task
sleeps until the earliest job is due, or ``poll`` at most (another process may have
scheduled an earlier one), or until ``wake`` says this process scheduled one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.background import BackgroundLoop
from bot.storage.engine import Clock

log = logging.getLogger(__name__)


class DueJobRunner(BackgroundLoop):
    """``async with DueJobRunner(run_due=…, next_due=…, clock=…):`` runs due jobs in the background until left."""

    task_name = "due-jobs"

    def __init__(
        self,
        *,
        run_due: Callable[[], Awaitable[int]],
        next_due: Callable[[], Awaitable[datetime | None]],
        clock: Clock,
        poll: timedelta = timedelta(seconds=30),
    ) -> None:
        self._run_due = run_due
        self._next_due = next_due
        self._clock = clock
        self._poll = poll
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the jobs now (this process just scheduled one, or a test moved the clock)."""
        self._wake.set()

    async def tick(self) -> float:
        """Run every job due now; return how many seconds to wait before looking again."""
        await self._run_due()
        due = await self._next_due()
        wait = self._poll.total_seconds()
        if due is not None:
            wait = min(wait, max(0.0, (due - self._clock()).total_seconds()))
        return wait

    async def _loop(self) -> None:
        while True:
            try:
                wait = await self.tick()
            except Exception:
                log.exception("running due jobs failed; trying again later")
                wait = self._poll.total_seconds()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
