"""Measurement 6 (PostgreSQL): 1, 2 and 4 worker processes draining one pre-filled outbox.

Each process is a real OS process running ``Store.claim_due`` (FOR UPDATE SKIP
LOCKED) and the ``DeliveryWorker``; afterwards every delivery must have been sent
exactly once and each lane in order.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.common import Database, Options, Row, bench_env, database, not_measured, raw_dsn
from bot.model import CaseCard, CaseStatus, DepartmentKey, Platform, PostKind, ThreadPost
from bot.storage.codec import body_to_json

NAME = "6 scale-out"
PROCESSES = (1, 2, 4)
COLUMNS = (
    "side", "lane", "target_platform", "target_chat", "target_thread", "in_case_thread", "body", "state",
    "attempts", "next_attempt_at", "created_at", "updated_at",
)  # fmt: skip


def sizes(options: Options) -> tuple[int, int]:
    """(lanes, deliveries per lane)."""
    return (200, 10) if options.quick else (1_000, 20)


async def prefill(db: Database, lanes: int, per_lane: int) -> int:
    """COPY ``lanes × per_lane`` pending thread posts into the outbox; returns how many."""
    now = datetime.now(UTC)
    card = CaseCard("SO-000000", DepartmentKey("general"), "General", Platform("telegram"), "Citizen", "en",
                    CaseStatus.OPEN, None)  # fmt: skip
    records = []
    for seq in range(per_lane):
        for lane in range(lanes):
            body = ThreadPost(PostKind.CITIZEN, card, f"A message in lane {lane} seq {seq}", "Citizen")
            records.append(
                (
                    "department",
                    f"case:{lane}",
                    "slack",
                    f"C0CH{lane % 9}",
                    f"1700000000.{lane:06d}",
                    False,
                    json.dumps(body_to_json(body)),
                    "pending",
                    0,
                    now,
                    now,
                    now,
                )
            )
    connection = await asyncpg.connect(raw_dsn(db.url))
    try:
        await connection.copy_records_to_table("deliveries", records=records, columns=COLUMNS)
        await connection.execute("ANALYZE deliveries")
    finally:
        await connection.close()
    return len(records)


async def run_processes(db: Database, count: int, folder: Path) -> list[dict[str, object]]:
    """Start ``count`` workers, let them go at once, and collect their records."""
    env = bench_env()
    workers = []
    for n in range(count):
        out = folder / f"worker-{count}-{n}.json"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.outbox_worker", db.url, str(out),
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        workers.append((process, out))
    for process, _ in workers:
        assert process.stdout is not None  # piped above
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if line.strip() != b"ready":
            _, err = await process.communicate()
            raise RuntimeError(f"outbox worker failed to start: {err.decode()[-1500:]}")
    go = time.monotonic_ns()
    for process, _ in workers:
        assert process.stdin is not None  # piped above
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    results = []
    for process, out in workers:
        _, err = await asyncio.wait_for(process.communicate(), timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"outbox worker exited {process.returncode}: {err.decode()[-1500:]}")
        record = json.loads(out.read_text())
        record["go"] = go
        results.append(record)
    return results


def check(results: list[dict[str, object]], total: int) -> tuple[float, list[int], str]:
    """Throughput, per-process counts, and what (if anything) broke exactly-once or lane order."""
    sends = [tuple(s) for r in results for s in r["sends"]]  # type: ignore[attr-defined]
    go = int(results[0]["go"])  # type: ignore[call-overload]
    last = max(int(s[3]) for s in sends)
    rate = len(sends) / ((last - go) / 1e9)
    counts = [len(r["sends"]) for r in results]  # type: ignore[arg-type]
    ids = [s[0] for s in sends]
    problems = []
    if len(ids) != total or len(set(ids)) != total:
        problems.append(f"{len(ids)} sends of {len(set(ids))} distinct deliveries for {total}")
    by_lane: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for _, lane, seq, at in sends:
        by_lane[int(lane)].append((int(at), int(seq)))
    disordered = sum(1 for lane in by_lane.values() if [s for _, s in sorted(lane)] != sorted(s for _, s in lane))
    if disordered:
        problems.append(f"{disordered} lanes out of order")
    return rate, counts, "; ".join(problems) or "each exactly once, every lane in order"


async def measure(backend: str, options: Options) -> list[Row]:
    """1, 2 and 4 processes on a fresh outbox each."""
    if backend != "postgres":
        return [not_measured(NAME, backend, "SQLite serves one process by design")]
    lanes, per_lane = sizes(options)
    rows = []
    base = None
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as folder:
        for count in PROCESSES:
            async with database(backend, options, own_database=True) as db:
                total = await prefill(db, lanes, per_lane)
                results = await run_processes(db, count, Path(folder))
            rate, counts, verdict = check(results, total)
            base = base or rate
            rows.append(
                Row(
                    f"{NAME}: {count} process{'es' if count > 1 else ''}",
                    backend,
                    f"{rate:,.0f} deliveries/s",
                    {"deliveries_per_s": rate, "processes": count, "speedup": rate / base},
                    floor=f"{count}× one process",
                    ratio=rate / (base * count),
                    notes=f"{total:,} deliveries over {lanes:,} lanes, 5 ms sends; per process {counts}; {verdict}",
                )
            )
    return rows
