"""Which database errors make ``Store.atomic`` run a transaction again: decided by error code, not text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from bot.storage.engine import is_retryable


class FakePostgresError(Exception):
    """What SQLAlchemy's asyncpg adapter raises: the server's SQLSTATE in ``sqlstate``."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(error: Exception) -> DBAPIError:
    return DBAPIError("UPDATE cases SET updated_at = ?", None, error)


def _busy_error(tmp_path: Path) -> sqlite3.OperationalError:
    """A real SQLITE_BUSY: a second connection asks for the write lock the first holds."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as raised:
            other.execute("BEGIN IMMEDIATE")
        return raised.value
    finally:
        holder.execute("ROLLBACK")
        other.close()
        holder.close()


def test_sqlite_busy_is_retried(tmp_path: Path) -> None:
    """Another connection holding SQLite's write lock (SQLITE_BUSY) makes the transaction run again."""
    assert is_retryable(_wrapped(_busy_error(tmp_path)))


def test_sqlite_error_that_mentions_locked_but_is_not_busy_is_not_retried() -> None:
    """A SQLite error is judged by its code: the word "locked" in another error's text changes nothing."""
    error = sqlite3.OperationalError("no such table: locked_rows")
    error.sqlite_errorcode = sqlite3.SQLITE_ERROR
    assert not is_retryable(_wrapped(error))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_postgres_deadlock_and_serialization_failure_are_retried(sqlstate: str) -> None:
    """PostgreSQL choosing this transaction as a deadlock or serialization victim makes it run again."""
    assert is_retryable(_wrapped(FakePostgresError("deadlock detected", sqlstate)))


def test_postgres_error_with_other_sqlstate_is_not_retried() -> None:
    """Any other PostgreSQL error is raised at once, whatever its text says."""
    assert not is_retryable(_wrapped(FakePostgresError("deadlock in your text column", "22001")))
