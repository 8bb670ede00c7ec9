"""Measurement 2: latency from ``relay.accept`` to the other side's ``send``, at a steady open-loop rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.common import Options, Row, database, spread
from bench.core import Core, running_core, settle, staff_message
from bot.events import InboundEvent
from bot.model import Address
from bot.storage.store import Tx

RATE = 200.0
NAME = "2 core latency"


def sizes(options: Options) -> tuple[int, int]:
    """(cases, seconds of steady load per direction)."""
    return (50, 2) if options.quick else (200, 15)


async def open_cases(core: Core, count: int) -> list[Address]:
    """Open ``count`` cases and return their department threads."""
    for citizen in range(count):
        await core.relay.accept(core.citizen_message(citizen, core.first_text(citizen), f"lat-open-{citizen}"))
    await settle(core)

    async def threads(tx: Tx) -> list[Address]:
        found = []
        for citizen in range(count):
            case = await tx.active_case(core.citizen_message(citizen, "", "").chat)
            assert case is not None
            assert case.thread is not None
            found.append(case.thread)
        return found

    return await core.store.read(threads)


async def paced(
    count: int, make: Callable[[int], InboundEvent], accept: Callable[[InboundEvent], object]
) -> list[float]:
    """Start one accept every 1/RATE seconds, whatever the earlier ones are doing; returns the planned start times."""
    loop = asyncio.get_running_loop()
    planned: list[float] = []
    tasks: list[asyncio.Task[object]] = []
    start = time.perf_counter() + 0.05
    for i in range(count):
        at = start + i / RATE
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        planned.append(at)
        tasks.append(loop.create_task(accept(make(i))))  # type: ignore[arg-type]  # accept is a coroutine function
    await asyncio.gather(*tasks)
    return planned


async def wait_for(arrived: dict[int, float], count: int, timeout: float = 300.0) -> None:
    """Poll with a deadline until ``count`` tagged sends arrived."""
    deadline = time.perf_counter() + timeout
    while len(arrived) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {len(arrived)} of {count} sends arrived")
        await asyncio.sleep(0.01)


async def measure(backend: str, options: Options) -> list[Row]:
    """Citizen→department and staff→citizen latency on one backend."""
    cases, seconds = sizes(options)
    count = int(RATE * seconds)
    rows = []
    async with database(backend, options) as db, running_core(db.store) as core:
        threads = await open_cases(core, cases)

        def citizen(i: int) -> InboundEvent:
            return core.citizen_message(i % cases, f"More about my case #{i}", f"lat-c-{i}")

        planned = await paced(count, citizen, core.relay.accept)
        await wait_for(core.departments.arrived, count)
        ms = [(core.departments.arrived[i] - planned[i]) * 1000 for i in range(count)]
        rows.append(_row("citizen → department", backend, ms, count, cases))

        def staff(i: int) -> InboundEvent:
            return staff_message(threads[i % cases], f"Thank you, we are on it #{i}", f"lat-s-{i}")

        planned = await paced(count, staff, core.relay.accept)
        await wait_for(core.citizens.arrived, count)
        ms = [(core.citizens.arrived[i] - planned[i]) * 1000 for i in range(count)]
        rows.append(_row("staff → citizen", backend, ms, count, cases))
    return rows


def _row(direction: str, backend: str, ms: list[float], count: int, cases: int) -> Row:
    figures = spread(ms)
    result = f"p50 {figures['p50_ms']:.1f} / p95 {figures['p95_ms']:.1f} / p99 {figures['p99_ms']:.1f} ms"
    return Row(
        f"{NAME}, {direction}",
        backend,
        result,
        figures,
        notes=f"{count:,} msgs at {RATE:.0f}/s open loop over {cases} cases, worker in background",
    )
