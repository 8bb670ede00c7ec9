"""The daily retention run inside ``civic-bridge run``, and scrubbing SQLite's write-ahead log after erasing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.background import BackgroundLoop
from bot.purge import PurgeCounts, Retention, claim_run, purge
from bot.storage.store import Store, Tx

log = logging.getLogger(__name__)

PURGE_TASK = "privacy-purge"
PURGE_EVERY = timedelta(days=1)


async def scrub_sqlite(store: Store) -> None:
    """Fold the write-ahead log into the database file and empty it, so erased text leaves no copy in the ``-wal``.

    With ``secure_delete`` on (``bot.storage.engine``) the pages themselves hold no erased text; a
    PostgreSQL database reclaims old row versions by (auto)vacuum.
    """
    database = make_url(store.engine.url).database if store.is_sqlite else None
    if not database or database == ":memory:":
        return
    path = Path(database)

    def checkpoint() -> None:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    await asyncio.to_thread(checkpoint)


class RetentionTask(BackgroundLoop):
    """Runs the purge once a day, in one of however many bridge processes share the database.

    Every ``check_every`` seconds it tries to claim the day's run (``claim_run``, a conditional
    update) and purges in that same transaction; a process that finds the run taken does nothing.
    """

    task_name = "retention"

    def __init__(
        self,
        *,
        store: Store,
        retention: Retention,
        check_every: float = 3600.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._retention = retention
        self._check_every = check_every
        self._sleep = sleep

    async def run_due(self) -> PurgeCounts | None:
        """Purge if today's run is not taken yet; None when another process (or an earlier call) ran it."""

        async def work(tx: Tx) -> PurgeCounts | None:
            if not await claim_run(tx, PURGE_TASK, every=PURGE_EVERY):
                return None
            return await purge(tx, self._retention)

        counts = await self._store.atomic(work)
        if counts is not None:
            await scrub_sqlite(self._store)
            log.info(
                "retention purge: %s cases anonymised, %s attachment files and %s finished deliveries deleted",
                counts.cases,
                counts.blobs,
                counts.deliveries,
            )
        return counts

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("the retention purge failed; it is tried again in %s s", self._check_every)
            await self._sleep(self._check_every)
