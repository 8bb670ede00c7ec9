"""Leases for connections that allow one consumer at a time (Telegram polling, Discord gateway, Socket Mode).

With PostgreSQL every bridge process asks for a session advisory lock per
connection name; the holder runs the intake, the others wait and take over
within about ``interval`` seconds when the holder dies (PostgreSQL frees a
dead session's locks). With SQLite there is one process, so it always holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.retry import Attempts, steady

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


class Lease(Protocol):
    """Runs ``start`` while this process holds the named lease, ``stop`` when it loses or leaves it."""

    async def hold(self, name: str, *, start: Hook, stop: Hook) -> None:
        """Run until cancelled; on cancellation, ``stop`` has run if ``start`` had."""

    def holding(self, name: str) -> bool:
        """Whether this process holds the named lease now."""


class LocalLease:
    """The single-process lease (SQLite): always held."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    async def hold(self, name: str, *, start: Hook, stop: Hook) -> None:
        """Start at once and stop when cancelled."""
        await start()
        self._held.add(name)
        try:
            await asyncio.Event().wait()
        finally:
            self._held.discard(name)
            await stop()

    def holding(self, name: str) -> bool:
        """Always true once started."""
        return name in self._held


def lock_key(name: str) -> int:
    """A stable signed 63-bit advisory-lock key for a lease name."""
    return zlib.crc32(f"civic-bridge:{name}".encode()) & 0x7FFF_FFFF_FFFF_FFFF


class PostgresLease:
    """A session advisory lock held on a dedicated connection, checked every ``interval`` seconds."""

    def __init__(self, *, engine: AsyncEngine, interval: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval
        self._held: set[str] = set()

    def holding(self, name: str) -> bool:
        """Whether this process holds the lock now."""
        return name in self._held

    async def hold(self, name: str, *, start: Hook, stop: Hook) -> None:
        """Try for the lock; while held run the intake; if the connection drops, stop and try again."""
        # A steady wait: a standby process checks once per interval, and a lost connection is retried as often.
        attempts = Attempts(steady(self._interval))
        while True:
            try:
                async with self._engine.connect() as plain:
                    connection = await plain.execution_options(isolation_level="AUTOCOMMIT")
                    if await self._try_lock(connection, name):
                        await self._lead(connection, name, start=start, stop=stop)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001  # a lost database connection: wait and try again
                log.warning("lease %s: database connection lost (%s); trying again", name, type(error).__name__)
            await attempts.back_off()

    async def _try_lock(self, connection: AsyncConnection, name: str) -> bool:
        return bool(await connection.scalar(select(func.pg_try_advisory_lock(lock_key(name)))))

    async def _lead(self, connection: AsyncConnection, name: str, *, start: Hook, stop: Hook) -> None:
        log.info("lease %s: this process now runs the intake", name)
        self._held.add(name)
        try:
            await start()
            while True:
                await asyncio.sleep(self._interval)
                await connection.execute(text("SELECT 1"))
        finally:
            self._held.discard(name)
            with contextlib.suppress(Exception):
                await stop()
            # Close the session rather than pool it: its advisory lock goes with it.
            with contextlib.suppress(Exception):
                await connection.invalidate()
            log.info("lease %s: intake stopped in this process", name)
