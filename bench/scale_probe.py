"""A fresh bridge-like process for measurement 5: times the relay's lookups, runs traffic, reports RSS as JSON.

Usage: ``python -m bench.scale_probe DATABASE_URL STORED_CASES``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import time

from bench.common import percentile, rss_mib
from bench.core import running_core, settle
from bench.scale import thread_of
from bot.model import SLACK, TELEGRAM, Address
from bot.storage.store import Store, Tx

LOOKUPS = 1_000
WARM_UP = 100
TRAFFIC_CITIZENS = 50
TRAFFIC_ROUNDS = 10


async def probe(url: str, stored: int) -> dict[str, float]:
    """Lookup latencies over ``stored`` cases, then memory after some traffic."""
    store = Store.open(url)
    rng = random.Random(7)
    try:
        timings: dict[str, list[float]] = {"active": [], "thread": []}
        for n in range(WARM_UP + LOOKUPS):
            i = rng.randrange(stored)
            chat = Address(TELEGRAM, str(i))
            channel, ts = thread_of(i)
            thread = Address(SLACK, channel, ts)

            async def active(tx: Tx, chat: Address = chat) -> object:
                return await tx.active_case(chat)

            async def by_thread(tx: Tx, thread: Address = thread) -> object:
                return await tx.case_by_thread(thread)

            started = time.perf_counter()
            await store.read(active)
            middle = time.perf_counter()
            found = await store.read(by_thread)
            if n >= WARM_UP:
                timings["active"].append((middle - started) * 1000)
                timings["thread"].append((time.perf_counter() - middle) * 1000)
            if found is None:
                raise RuntimeError(f"bulk case {i} not found by its thread")
        async with running_core(store) as core:
            for r in range(TRAFFIC_ROUNDS):
                for c in range(TRAFFIC_CITIZENS):
                    citizen = stored + 1 + c
                    text = core.first_text(c) if r == 0 else f"Detail {r}"
                    await core.relay.accept(core.citizen_message(citizen, text, f"probe-{r}-{c}"))
            await settle(core)
        gc.collect()
        rss, peak = rss_mib()
        return {
            "active_p50_ms": percentile(timings["active"], 50),
            "active_p99_ms": percentile(timings["active"], 99),
            "thread_p50_ms": percentile(timings["thread"], 50),
            "thread_p99_ms": percentile(timings["thread"], 99),
            "rss_mib": rss,
            "peak_rss_mib": peak,
        }
    finally:
        await store.close()


def main() -> None:
    """Run the probe and print one JSON line."""
    url, stored = sys.argv[1], int(sys.argv[2])
    print(json.dumps(asyncio.run(probe(url, stored))))


if __name__ == "__main__":
    main()
