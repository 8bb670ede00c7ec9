"""Measurement 5: memory and case-lookup latency with few and many stored cases, and startup time.

The parent bulk-loads the cases straight into the tables (executemany on SQLite,
COPY on PostgreSQL); a fresh process (``bench.scale_probe``) then opens the
store, times the relay's lookups and runs some traffic, and reports its RSS,
so the figures are those of a bridge process, not of the loader.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.common import (
    SHARED_ROUTING,
    Database,
    Options,
    Row,
    bench_env,
    database,
    free_port,
    raw_dsn,
    run_python,
)

NAME = "5 scale"
CHANNELS = ("C0ROADS001", "C0WASTE001", "C0HOUSE001", "C0GENERAL1")


def sizes(options: Options) -> tuple[int, int]:
    """(small, large) stored-case counts."""
    return (1_000, 20_000) if options.quick else (10_000, 1_000_000)


def thread_of(i: int) -> tuple[str, str]:
    """The Slack channel and thread ts of bulk case ``i``."""
    return CHANNELS[i % len(CHANNELS)], f"1700000000.{i:07d}"


def _rows(count: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    now = datetime.now(UTC).replace(tzinfo=None)
    citizens = [(i + 1, "telegram", str(i), f"Citizen {i}", "en", now) for i in range(count)]
    cases = []
    for i in range(count):
        channel, ts = thread_of(i)
        status = "open" if i % 10 == 0 else "closed"
        cases.append(
            (i + 1, f"BK-{i:08d}", i + 1, "telegram", str(i), "general", status, "slack", channel, ts, ts, now, now)
        )
    return citizens, cases


CITIZEN_COLUMNS = ("id", "platform", "user_id", "display_name", "language", "created_at")
CASE_COLUMNS = (
    "id", "reference", "citizen_id", "chat_platform", "chat_id", "department", "status",
    "thread_platform", "thread_chat", "thread_id", "root_id", "created_at", "updated_at",
)  # fmt: skip


def _load_sqlite(path: Path, count: int) -> None:
    citizens, cases = _rows(count)
    connection = sqlite3.connect(path)
    try:
        with connection:
            for table, columns, rows in (("citizens", CITIZEN_COLUMNS, citizens), ("cases", CASE_COLUMNS, cases)):
                marks = ",".join("?" * len(columns))
                statement = f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})"  # noqa: S608  # fixed names
                connection.executemany(statement, rows)
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _load_postgres(db: Database, count: int) -> None:
    citizens, cases = _rows(count)
    aware = [(*row[:-1], row[-1].replace(tzinfo=UTC)) for row in citizens]
    cases_aware = [(*row[:-2], row[-2].replace(tzinfo=UTC), row[-1].replace(tzinfo=UTC)) for row in cases]
    connection = await asyncpg.connect(raw_dsn(db.url))
    try:
        await connection.copy_records_to_table(
            "citizens",
            records=aware,
            columns=CITIZEN_COLUMNS,
        )
        await connection.copy_records_to_table("cases", records=cases_aware, columns=CASE_COLUMNS)
        for table in ("citizens", "cases"):
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
            await connection.execute(f"ANALYZE {table}")
    finally:
        await connection.close()


async def load(db: Database, count: int) -> float:
    """Bulk-insert ``count`` citizens with a case each (one in ten open); returns seconds taken."""
    started = time.perf_counter()
    if db.sqlite_path is not None:
        await asyncio.to_thread(_load_sqlite, db.sqlite_path, count)
    else:
        await _load_postgres(db, count)
    return time.perf_counter() - started


async def startup_seconds(db: Database) -> float:
    """From ``civic-bridge run`` process start to the first 200 from /healthz."""
    port = free_port()
    env = bench_env(BRIDGE_DATABASE_URL=db.url, BRIDGE_HTTP_PORT=str(port), BRIDGE_LOG_LEVEL="WARNING")
    if SHARED_ROUTING.exists():
        env["BRIDGE_ROUTING_FILE"] = str(SHARED_ROUTING)
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: ASYNC220  # started, not waited on: the loop polls /healthz meanwhile
        [sys.executable, "-m", "bot", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        async with aiohttp.ClientSession() as session:
            deadline = started + 60
            while time.perf_counter() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"civic-bridge run exited: {process.stderr.read().decode()[-1000:]}")  # type: ignore[union-attr]
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:  # noqa: PLR2004  # HTTP OK
                            return time.perf_counter() - started
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.01)
        raise TimeoutError("civic-bridge run did not answer /healthz within 60 s")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


async def one_size(backend: str, options: Options, count: int) -> dict[str, float]:
    """Load ``count`` cases, then probe lookups and memory in a fresh process, and time a startup."""
    async with database(backend, options, own_database=True) as db:
        loaded = await load(db, count)
        out = await run_python("-m", "bench.scale_probe", db.url, str(count), env=bench_env(), timeout=600)
        probe: dict[str, float] = json.loads(out.strip().splitlines()[-1])
        probe["load_s"] = loaded
        probe["startup_s"] = await startup_seconds(db)
    return probe


async def measure(backend: str, options: Options) -> list[Row]:
    """Small vs large history on one backend."""
    small, large = sizes(options)
    a = await one_size(backend, options, small)
    b = await one_size(backend, options, large)
    rows = []
    for what, key in (("active-case lookup", "active"), ("thread lookup", "thread")):
        p50, p99 = f"{key}_p50_ms", f"{key}_p99_ms"
        growth = b[p50] / a[p50]
        rows.append(
            Row(
                f"{NAME}: {what}",
                backend,
                f"p50 {a[p50]:.2f} → {b[p50]:.2f} ms, p99 {a[p99]:.2f} → {b[p99]:.2f} ms",
                {
                    f"{p50}@{small}": a[p50],
                    f"{p50}@{large}": b[p50],
                    f"{p99}@{small}": a[p99],
                    f"{p99}@{large}": b[p99],
                    "growth": growth,
                },
                ratio=growth,
                notes=f"{small:,} → {large:,} stored cases; ratio = p50 large/small",
            )
        )
    for what, key, unit in (("RSS after traffic", "rss_mib", "MiB"), ("startup to /healthz 200", "startup_s", "s")):
        growth = b[key] / a[key]
        rows.append(
            Row(
                f"{NAME}: {what}",
                backend,
                f"{a[key]:.2f} → {b[key]:.2f} {unit}",
                {f"{key}@{small}": a[key], f"{key}@{large}": b[key], "growth": growth},
                ratio=growth,
                notes=f"{small:,} → {large:,} stored cases; ratio = large/small",
            )
        )
    return rows
