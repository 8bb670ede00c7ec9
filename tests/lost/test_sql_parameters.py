"""SQL parameters (message text, names) never reach an error message or a log record."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.storage.engine import Executor
from bot.storage.store import Store
from tests.backends import postgres_url

PRIVATE = "my-private-pothole-story-Ada-Lovelace"


async def _failing_insert(store: Store) -> str:
    """The text of the error a failing insert with ``PRIVATE`` as its parameter raises."""

    async def body(connection: Executor, _now: object) -> None:
        await connection.execute(text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": PRIVATE})

    with pytest.raises(DBAPIError) as raised:
        await store.transaction(body, write=True)
    return str(raised.value)


async def test_a_failing_insert_on_sqlite_does_not_show_its_parameters(tmp_path: Path) -> None:
    """The error a failed SQLite statement raises (and the log prints) holds no message text or name."""
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    try:
        assert PRIVATE not in await _failing_insert(store)
    finally:
        await store.close()


async def test_a_failing_insert_on_postgres_does_not_show_its_parameters() -> None:
    """The error a failed PostgreSQL statement raises (and the log prints) holds no message text or name."""
    url = postgres_url()
    assert url is not None
    store = Store.open(url)  # the statement fails on a missing table: nothing is written anywhere
    try:
        assert PRIVATE not in await _failing_insert(store)
    finally:
        await store.close()
