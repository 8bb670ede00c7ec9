"""The database engine and its transactions: where a transaction body runs, and when it runs again.

``Database.transaction`` runs a body in one transaction and runs it again when a
unique constraint shows another writer got there first, or the database asks
for a retry (SQLite busy/locked, a PostgreSQL deadlock or serialization
failure). On a SQLite file every body runs whole on one database thread
(``SqliteThread``), which has an event loop of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, Self, TypeVar

from sqlalchemy import Connection, CursorResult, Dialect, Engine, Executable, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")
Clock = Callable[[], datetime]

_TRIES = 8
#: SQLite's primary result codes that mean "another connection holds the lock: try again".
_SQLITE_RETRY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
#: PostgreSQL SQLSTATEs that mean "this transaction lost to another: run it again".
_POSTGRES_RETRY = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def is_retryable(error: DBAPIError) -> bool:
    """Whether the database refused for a reason that running the transaction again can cure.

    Decided by the driver's error code, never by the message text.
    """
    original = error.orig
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_RETRY  # extended codes keep the primary one in the low byte
    return getattr(original, "sqlstate", None) in _POSTGRES_RETRY


class Executor(Protocol):
    """What queries run their statements on: an ``AsyncConnection``, or the SQLite thread's connection."""

    @property
    def dialect(self) -> Dialect:
        """The database dialect."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:  # noqa: ANN401  # one dict or a list of them, as SQLAlchemy takes
        """Run one statement."""


Body = Callable[[Executor, datetime], Awaitable[T]]


class Database:
    """Owns the engine; runs transaction bodies (``transaction``) on it."""

    def __init__(self, *, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._sqlite = engine.dialect.name == "sqlite"
        # A SQLite file: every transaction runs whole on one database thread, which also makes
        # this process's writers take turns (SQLite allows one writer; a queue is cheaper than its
        # busy timeout). An in-memory database keeps the async engine, behind an asyncio lock.
        # PostgreSQL: writers run side by side; a case's writers queue on its row lock.
        database = engine.url.database if self._sqlite else None
        self._thread = (
            SqliteThread(engine.url.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False))
            if database and database != ":memory:"
            else None
        )
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self._sqlite and self._thread is None else None

    @classmethod
    def open(cls, url: str, *, clock: Clock = utc_now) -> Self:
        """Create the engine for ``url`` (SQLite gets WAL and immediate write transactions)."""
        if url.startswith("sqlite"):
            engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
            tune_sqlite(engine.sync_engine)
        else:
            # Parameters are message text and names: never in an error message or a log line.
            engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)
        return cls(engine=engine, clock=clock)

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (migrations and health checks use it)."""
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        """Whether this store is the single-process SQLite default."""
        return self._sqlite

    def now(self) -> datetime:
        """The clock (tests inject a fake one)."""
        return self._clock()

    async def close(self) -> None:
        """Release every pooled connection (and the SQLite thread's)."""
        if self._thread is not None:
            await self._thread.close()
        await self._engine.dispose()

    async def transaction(self, body: Body[T], *, write: bool) -> T:
        """Run ``body`` in one transaction; a write runs again if it lost a race the database reports."""
        if not write:
            return await self._once(body, write=False)
        for attempt in range(_TRIES):
            try:
                return await self._once(body, write=True)
            except IntegrityError:
                if attempt == _TRIES - 1:
                    raise
            except DBAPIError as error:
                if attempt == _TRIES - 1 or not is_retryable(error):
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, body: Body[T], *, write: bool) -> T:
        if self._thread is not None:
            return await self._thread.run(body, self._clock(), write=write)
        if not write:
            async with self._engine.connect() as connection:
                return await body(connection, self._clock())
        async with self._write() as connection:
            return await body(connection, self._clock())

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            plain = await stack.enter_async_context(self._engine.connect())
            connection = await plain.execution_options(civic_write=True) if self._sqlite else plain
            async with connection.begin():
                yield connection


def tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and ``BEGIN IMMEDIATE`` for writers on every connection of ``engine``."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401  # the DBAPI connection is untyped
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Erased or purged text is overwritten on disk, not left in free pages (see bot/privacy.py).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Writers take the lock up front, so two processes never deadlock upgrading a read lock.
        mode = "BEGIN IMMEDIATE" if connection.get_execution_options().get("civic_write") else "BEGIN"
        connection.exec_driver_sql(mode)


class _Direct:
    """A synchronous connection behind ``Executor``'s async ``execute``: the statement runs right here."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:  # noqa: ANN401  # as Executor
        return self._connection.execute(statement, parameters)


class SqliteThread:
    """One thread owning one SQLite connection and an event loop; a whole transaction is one hop to it.

    Through aiosqlite every statement is a hop to its thread and back (about 0.4 ms
    here); here a transaction body is submitted to this thread's loop and runs
    there top to bottom, its queries running the statements directly. A lock on
    that loop makes transactions take turns, which is also SQLite's single-writer rule.
    """

    def __init__(self, url: str) -> None:
        self._engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True
        )
        tune_sqlite(self._engine)
        self._connection: Connection | None = None
        self._loop = asyncio.new_event_loop()
        self._turn = asyncio.Lock()  # bound to ``_loop`` on first use, which is always on the thread
        self._inbox = _Mailbox(self._loop)
        self._replies: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Mailbox] = weakref.WeakKeyDictionary()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sqlite", daemon=True)
        self._thread.start()

    async def run(self, body: Body[T], now: datetime, *, write: bool) -> T:
        """Run ``body`` in one transaction on the database thread (BEGIN IMMEDIATE if ``write``)."""
        caller = asyncio.get_running_loop()
        replies = self._replies.get(caller) or self._replies.setdefault(caller, _Mailbox(caller))
        outcome: asyncio.Future[T] = caller.create_future()
        self._inbox.post(partial(self._start, self._transaction(body, now, write=write), replies, outcome))
        return await outcome

    def _start(self, transaction: Coroutine[Any, Any, T], replies: _Mailbox, outcome: asyncio.Future[T]) -> None:
        """On the database thread: run the transaction as a task, hand its outcome back to the caller's loop."""
        task = self._loop.create_task(transaction)
        task.add_done_callback(lambda done: replies.post(partial(_settle, outcome, done)))

    async def _transaction(self, body: Body[T], now: datetime, *, write: bool) -> T:
        async with self._turn:
            if self._connection is None or self._connection.closed or self._connection.invalidated:
                self._connection = self._engine.connect()
            connection = self._connection
            connection.execution_options(civic_write=write)  # in place: read by ``on_begin``
            with connection.begin():
                return await body(_Direct(connection), now)

    async def close(self) -> None:
        """Close the connection, stop the loop and the thread."""
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._close(), self._loop))
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join)
        self._loop.close()

    async def _close(self) -> None:
        async with self._turn:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._engine.dispose()


class _Mailbox:
    """Calls handed to an event loop from another thread: one wake-up for all posted meanwhile, not one each.

    ``post`` runs on the sending thread, ``_drain`` on the loop's; the flag is cleared before
    draining, so an item posted during a drain either is drained now or wakes the loop again.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._calls: deque[Callable[[], None]] = deque()
        self._woken = False

    def post(self, call: Callable[[], None]) -> None:
        """Run ``call`` on the loop soon."""
        self._calls.append(call)
        if not self._woken:
            self._woken = True
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._woken = False
        while self._calls:
            self._calls.popleft()()


def _settle(outcome: asyncio.Future[T], done: asyncio.Task[T]) -> None:
    """On the caller's loop: copy a finished transaction's result or error (unless the caller gave up)."""
    if outcome.cancelled():
        return
    if done.cancelled():
        outcome.cancel()
    elif (error := done.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(done.result())


class Queries:
    """One transaction's connection and time; each entity's query class builds on it (``Tx`` joins them)."""

    def __init__(self, connection: Executor, now: datetime) -> None:
        self._c = connection
        self.now = now
        #: Whether this transaction queued bulk deliveries (a broadcast): the store counts such commits.
        self.bulk_queued = False

    @property
    def connection(self) -> Executor:
        """The transaction's connection (the benchmark's floor composes its own statements on it)."""
        return self._c
