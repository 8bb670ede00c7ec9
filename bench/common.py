"""What every measurement shares: result rows, backends (SQLite file, private PostgreSQL schema), timing helpers."""

from __future__ import annotations

import asyncio
import math
import os
import platform
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.departments import Department, Directory
from bot.live_routing import directory_from
from bot.model import SLACK, Address
from bot.storage.migrate import upgrade
from bot.storage.store import Store
from config.routing_file import RoutingConfig, load_routing
from routing.router import Router, build_router

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SHARED_ROUTING = Path("/work/shared/data/routing/routing.yaml")
EXAMPLE_ROUTING = Path(__file__).resolve().parent.parent / "config" / "routing.example.yaml"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a measurement on one backend, its figures, and the floor it is compared with."""

    measurement: str
    backend: str
    result: str
    figures: dict[str, float] = field(default_factory=dict)
    floor: str = ""
    ratio: float | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Options:
    """How a run is sized and where it stores."""

    quick: bool
    postgres_url: str
    backends: tuple[str, ...]


def not_measured(measurement: str, backend: str, why: str) -> Row:
    """A row that says honestly what could not be measured."""
    return Row(measurement, backend, f"not measured: {why}")


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def spread(values_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies in milliseconds."""
    return {
        "p50_ms": percentile(values_ms, 50),
        "p95_ms": percentile(values_ms, 95),
        "p99_ms": percentile(values_ms, 99),
        "max_ms": max(values_ms) if values_ms else float("nan"),
        "mean_ms": statistics.fmean(values_ms) if values_ms else float("nan"),
    }


def rss_mib() -> tuple[float, float]:
    """Resident memory of this process now and at its peak, in MiB (from /proc)."""
    now = peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return now, peak


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raw_dsn(url: str) -> str:
    """The asyncpg DSN behind a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@dataclass(frozen=True, slots=True)
class Database:
    """A migrated, empty database for one measurement: its URL, an open store, and where it lives.

    ``postgres_url`` reaches the database itself (for COPY); ``schema`` is set when it is a private schema.
    """

    backend: str
    url: str
    store: Store
    sqlite_path: Path | None
    schema: str | None
    postgres_url: str


@asynccontextmanager
async def database(backend: str, options: Options, *, own_database: bool = False) -> AsyncIterator[Database]:
    """A fresh SQLite file in a temp dir, or a private PostgreSQL schema dropped afterwards.

    ``own_database`` gives PostgreSQL a whole private database instead, so that its
    plain URL works in subprocesses (asyncpg takes no search_path in a URL).
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="civic-bench-") as folder:
            path = Path(folder) / "bench.db"
            url = f"sqlite+aiosqlite:///{path}"
            store = Store.open(url)
            try:
                await upgrade(store.engine)
                yield Database(backend, url, store, path, None, options.postgres_url)
            finally:
                await store.close()
        return
    name = f"bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(raw_dsn(options.postgres_url))
    try:
        if own_database:
            await admin.execute(f'CREATE DATABASE "{name}"')
            url = make_url(options.postgres_url).set(database=name).render_as_string(hide_password=False)
            engine = create_async_engine(url, pool_size=10, max_overflow=10)
        else:
            await admin.execute(f'CREATE SCHEMA "{name}"')
            url = options.postgres_url
            engine = create_async_engine(
                url, pool_size=10, max_overflow=10, connect_args={"server_settings": {"search_path": name}}
            )
        store = Store(engine=engine)
        try:
            await upgrade(store.engine)
            yield Database(backend, url, store, None, None if own_database else name, url)
        finally:
            await store.close()
    finally:
        if own_database:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.close()


def routing_config() -> RoutingConfig:
    """The shared, realistic routing file when this machine has it; the built-in example otherwise."""
    return load_routing(SHARED_ROUTING if SHARED_ROUTING.exists() else EXAMPLE_ROUTING)


def make_router(config: RoutingConfig) -> Router:
    """The router as the app builds it: keywords, meaning by the sentence encoder, language identification."""
    return build_router(config)


def slack_directory(config: RoutingConfig) -> Directory:
    """The routing file's departments, each answering in a Slack channel (made up where the file says desk)."""
    base = directory_from(config)
    departments = tuple(
        d if d.home.platform == SLACK else Department(d.key, d.name, Address(SLACK, f"C0{d.key.upper()}"))
        for d in base.departments
    )
    return Directory(departments=departments, fallback=base.fallback)


def routed_texts(router: Router, config: RoutingConfig) -> list[tuple[str, str]]:
    """One first-message text per department that the real router routes there with confidence."""
    found: list[tuple[str, str]] = []
    for department in config.departments:
        for phrase in (*department.keywords, *department.examples):
            text = f"Hello, about {phrase}" if phrase in department.keywords else phrase
            if router.route(text, language="en").department == department.key:
                found.append((department.key, text))
                break
    if not found:
        raise RuntimeError("no keyword of the routing file routes confidently: cannot build benchmark messages")
    return found


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": os.getloadavg(),
        "kernel": platform.release(),
    }


async def postgres_version(options: Options) -> str:
    """The server's version string, or why it is unknown."""
    try:
        connection = await asyncpg.connect(raw_dsn(options.postgres_url))
    except (OSError, asyncpg.PostgresError) as error:
        return f"unreachable ({error})"
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for a bench subprocess: this one, without proxies (loopback only), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("BRIDGE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


async def run_python(*args: str, env: dict[str, str], timeout: float) -> str:
    """Run ``python args…`` to completion; its stdout, or an error naming its stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {process.returncode}: {err.decode()[-2000:]}")
    return out.decode()
