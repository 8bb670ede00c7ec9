"""Database backends for tests: a fresh SQLite file, or a private schema in the test PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.migrate import upgrade
from bot.storage.store import Clock, Store, utc_now

POSTGRES_ENV = "BRIDGE_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL URL tests may use, or None (tests skip; under CI that is a failure)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set under CI: the PostgreSQL tests must run")
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL tests")
    return url


def _raw_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def postgres_schema(url: str) -> AsyncIterator[str]:
    """A schema of its own for one test, dropped afterwards (parallel runs never meet)."""
    schema = f"t_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        connection = await asyncpg.connect(_raw_dsn(url))
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL at {url} is unreachable: {error}")
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await connection.close()


def postgres_engine_url(url: str, schema: str) -> str:
    """A URL whose connections use ``schema`` (for processes started by tests)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@asynccontextmanager
async def open_store(backend: str, tmp_path: Path, *, clock: Clock = utc_now) -> AsyncIterator[Store]:
    """A migrated, empty store on ``backend`` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}", clock=clock)
        try:
            await upgrade(store.engine)
            yield store
        finally:
            await store.close()
        return
    url = postgres_url()
    assert url is not None
    async with postgres_schema(url) as schema:
        engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
        store = Store(engine=engine, clock=clock)
        try:
            await upgrade(store.engine)
            yield store
        finally:
            await store.close()
