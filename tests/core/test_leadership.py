"""Leases for single-consumer intake: one holder at a time, fast takeover when it goes."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.leadership import LocalLease, PostgresLease
from tests.backends import postgres_url
from tests.waiting import eventually


class Intake:
    """Records whether an intake is running, as an adapter's start/stop hooks would."""

    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.running = True
        self.starts += 1

    async def stop(self) -> None:
        self.running = False


@pytest.fixture
async def engines() -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines, as two bridge processes on one PostgreSQL database would have."""
    url = postgres_url()
    assert url is not None
    first, second = create_async_engine(url), create_async_engine(url)
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@contextlib.asynccontextmanager
async def holding(lease: PostgresLease | LocalLease, name: str, intake: Intake) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``lease.hold`` in the background for the block; cancel it afterwards."""
    task = asyncio.create_task(lease.hold(name, start=intake.start, stop=intake.stop))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_local_lease_runs_the_intake_until_cancelled() -> None:
    """With one process the intake starts at once and stops on shutdown."""
    intake = Intake()
    async with holding(LocalLease(), "telegram", intake):
        await eventually(lambda: intake.running, what="the intake to start")
    assert not intake.running


@pytest.mark.postgres
async def test_only_one_process_runs_the_intake(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """Of two processes asking for the same lease, one runs the intake and the other waits."""
    name = f"test-{secrets.token_hex(4)}"
    one, two = Intake(), Intake()
    async with (
        holding(PostgresLease(engine=engines[0], interval=0.05), name, one),
        holding(PostgresLease(engine=engines[1], interval=0.05), name, two),
    ):
        await eventually(lambda: one.running or two.running, what="a holder")
        await asyncio.sleep(0.3)  # several lease checks: the other must still be waiting
        assert [one.running, two.running].count(True) == 1


@pytest.mark.postgres
async def test_the_waiting_process_takes_over_when_the_holder_goes(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """When the holder stops, the waiting process starts its intake within a few checks."""
    name = f"test-{secrets.token_hex(4)}"
    one, two = Intake(), Intake()
    async with holding(PostgresLease(engine=engines[0], interval=0.05), name, one) as first:
        await eventually(lambda: one.running, what="the first holder")
        async with holding(PostgresLease(engine=engines[1], interval=0.05), name, two):
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await eventually(lambda: two.running, timeout=5, what="the takeover")
            assert not one.running
