"""The store: every read and write the relay, the delivery worker and the desk make.

Writes happen in ``Store.atomic``: one transaction, retried when a unique
constraint shows that another writer got there first (so concurrent copies
of one event, or ten first messages at once, end in one row). On a SQLite file
each transaction runs whole on one database thread (``SqliteThread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Dialect,
    Engine,
    Executable,
    Row,
    and_,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.events import Sender
from bot.model import (
    Address,
    Attachment,
    BlobId,
    Body,
    Case,
    CaseId,
    CaseStatus,
    Citizen,
    CitizenId,
    Delivery,
    DeliveryId,
    DeliveryState,
    DepartmentKey,
    Direction,
    FileData,
    Message,
    MessageId,
    Platform,
    PostKind,
    Sent,
    Side,
    ThreadPost,
)
from bot.storage.codec import attachments_from_json, attachments_to_json, body_from_json, body_to_json
from bot.storage.tables import blobs, cases, citizens, deliveries, inbound_events, messages, target_pauses

T = TypeVar("T")
Clock = Callable[[], datetime]

#: Reference alphabet: Crockford's base32, no I, L, O, U to misread.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ATOMIC_TRIES = 8


def pause_key(target: Address) -> str:
    """What a rate-limit pause applies to: one chat or channel of one platform."""
    return f"{target.platform}:{target.chat}"


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def new_reference(prefix: str = "CB") -> str:
    """A short random case reference such as ``CB-7K2Q9M`` (matches ``[A-Z]{2,}-[0-9A-Z-]{4,}``)."""
    return prefix + "-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """How the outbox stands: pending rows, the oldest one's creation time, permanent failures."""

    depth: int
    oldest_pending_at: datetime | None
    failed: int


class Store:
    """Owns the engine. ``atomic`` for writes, ``read`` for reads."""

    def __init__(self, *, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock
        self._sqlite = engine.dialect.name == "sqlite"
        # A SQLite file: every transaction runs whole on one database thread, which also makes
        # this process's writers take turns (SQLite allows one writer; a queue is cheaper than its
        # busy timeout). An in-memory database keeps the async engine, behind an asyncio lock.
        # PostgreSQL: writers run side by side; a case's writers queue on its row lock
        # (``touch_active_case``, ``touch_case_by_thread``).
        database = engine.url.database if self._sqlite else None
        self._thread = (
            SqliteThread(engine.url.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False))
            if database and database != ":memory:"
            else None
        )
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self._sqlite and self._thread is None else None

    @classmethod
    def open(cls, url: str, *, clock: Clock = utc_now) -> Store:
        """Create the engine for ``url`` (SQLite gets WAL and immediate write transactions)."""
        if url.startswith("sqlite"):
            engine = create_async_engine(url, connect_args={"timeout": 30})
            _tune_sqlite(engine.sync_engine)
        else:
            engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
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
        """The store's clock (tests inject a fake one)."""
        return self._clock()

    async def close(self) -> None:
        """Release every pooled connection (and the SQLite thread's)."""
        if self._thread is not None:
            await self._thread.close()
        await self._engine.dispose()

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction, again if a unique constraint lost a race.

        On a SQLite file ``work`` runs on the database thread and may await only the ``Tx``.
        """
        for attempt in range(_ATOMIC_TRIES):
            try:
                if self._thread is not None:
                    return await self._thread.run(work, self._clock(), write=True)
                async with self._write() as connection:
                    return await work(Tx(connection, self._clock()))
            except IntegrityError:
                if attempt == _ATOMIC_TRIES - 1:
                    raise
            except OperationalError as error:
                # Another process holds SQLite's write lock longer than the busy timeout,
                # or PostgreSQL chose this transaction as a deadlock victim: try again.
                if attempt == _ATOMIC_TRIES - 1 or not _is_retryable(error):
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work`` in a read-only transaction (on a SQLite file, on the database thread)."""
        if self._thread is not None:
            return await self._thread.run(work, self._clock(), write=False)
        async with self._engine.connect() as connection:
            return await work(Tx(connection, self._clock()))

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with contextlib.AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            plain = await stack.enter_async_context(self._engine.connect())
            connection = await plain.execution_options(civic_write=True) if self._sqlite else plain
            async with connection.begin():
                yield connection

    # --- the delivery worker's side ------------------------------------------------

    async def claim_due(self, *, limit: int, lease: timedelta) -> list[Delivery]:
        """Take up to ``limit`` due deliveries, the oldest of each (case, side) lane.

        A claimed row stays pending with ``next_attempt_at`` pushed one lease
        ahead: if this process dies mid-send, the row is due again after the
        lease, so nothing is lost. Rows behind it in its lane wait.
        """

        async def claim(tx: Tx) -> list[Delivery]:
            if not self._sqlite:
                # Visible to every process at once; only a server crash could lose it, and then the
                # rows are simply due again (a send may repeat, as at-least-once allows): no WAL flush.
                await tx.connection.execute(_ASYNC_COMMIT)
            return await tx.claim_due(limit=limit, lease=lease, skip_locked=not self._sqlite)

        return await self.atomic(claim)

    async def complete(self, delivery: Delivery, sent: Sent) -> None:
        """Record a successful send and what it tells us (a new thread, a delivered id)."""

        async def done(tx: Tx) -> None:
            await tx.complete(delivery, sent)

        await self.atomic(done)

    async def retry_later(self, delivery_id: DeliveryId, *, at: datetime, error: str) -> None:
        """Keep a delivery pending after a transient failure, due again at ``at``."""

        async def later(tx: Tx) -> None:
            await tx.set_delivery(delivery_id, next_attempt_at=at, last_error=error)

        await self.atomic(later)

    async def fail(self, delivery_id: DeliveryId, *, error: str) -> None:
        """Stop retrying a delivery: the platform said it can never succeed."""

        async def failed(tx: Tx) -> None:
            await tx.set_delivery(delivery_id, state=DeliveryState.FAILED, last_error=error)

        await self.atomic(failed)

    async def pause(self, target: Address, *, until: datetime) -> None:
        """A platform asked us to wait: no process sends to this chat or channel before ``until``."""

        async def hold(tx: Tx) -> None:
            await tx.pause(target, until)

        await self.atomic(hold)

    async def release(self, delivery_ids: tuple[DeliveryId, ...]) -> None:
        """Give claimed deliveries back: due now, their attempt not counted (a shutdown, not a failure)."""

        async def give_back(tx: Tx) -> None:
            await tx.release(delivery_ids)

        await self.atomic(give_back)

    async def outbox_stats(self) -> OutboxStats:
        """Depth and age of the outbox, for /healthz and /metrics."""

        async def stats(tx: Tx) -> OutboxStats:
            return await tx.outbox_stats()

        return await self.read(stats)

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending delivery is due (the worker sleeps until then)."""

        async def due(tx: Tx) -> datetime | None:
            return await tx.next_due_at()

        return await self.read(due)


def _is_retryable(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "deadlock" in text or "busy" in text


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401  # the DBAPI connection is untyped
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # Writers take the lock up front, so two processes never deadlock upgrading a read lock.
        mode = "BEGIN IMMEDIATE" if connection.get_execution_options().get("civic_write") else "BEGIN"
        connection.exec_driver_sql(mode)


class Executor(Protocol):
    """What a ``Tx`` runs its statements on: an ``AsyncConnection``, or the SQLite thread's connection."""

    @property
    def dialect(self) -> Dialect:
        """The database dialect."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:  # noqa: ANN401  # one dict or a list of them, as SQLAlchemy takes
        """Run one statement."""


class _Direct:
    """A synchronous connection behind ``Executor``'s async ``execute``, which never suspends."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def dialect(self) -> Dialect:
        return self._connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:  # noqa: ANN401  # as Executor
        return self._connection.execute(statement, parameters)


class SqliteThread:
    """One thread owning one SQLite connection; a whole transaction is one hop to it.

    Through aiosqlite every statement is a hop to its thread and back (about 0.4 ms
    here); here a ``Store.atomic`` work function runs to completion on this thread,
    its ``await tx.…`` calls returning at once. Transactions therefore take turns,
    which is also SQLite's single-writer rule.
    """

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(self._engine)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: Connection | None = None

    async def run(self, work: Callable[[Tx], Awaitable[T]], now: datetime, *, write: bool) -> T:
        """Run ``work`` in one transaction on the database thread (BEGIN IMMEDIATE if ``write``)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, work, now, write)

    def _transaction(self, work: Callable[[Tx], Awaitable[T]], now: datetime, write: bool) -> T:
        if self._connection is None or self._connection.closed or self._connection.invalidated:
            self._connection = self._engine.connect()
        connection = self._connection
        connection.execution_options(civic_write=write)  # in place: read by ``on_begin``
        with connection.begin():
            return _complete(work(Tx(_Direct(connection), now)))

    async def close(self) -> None:
        """Close the connection and stop the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


def _complete(step: Awaitable[T]) -> T:
    """Drive a coroutine that never suspends (it awaits only ``_Direct``) and return its result."""
    coroutine: Coroutine[Any, Any, T] = step  # type: ignore[assignment]  # work functions are coroutine functions
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]  # the coroutine's return value
    coroutine.close()
    raise RuntimeError(
        "a Store.atomic/Store.read work function awaited something other than its Tx; on SQLite it runs "
        "on the database thread and may only await the Tx's queries (do other waiting before or after)"
    )


# Built once: the hot statements only bind new values (building and cache-keying a statement on
# every call cost more Python time than running it).
_INSERT_MESSAGE = insert(messages)
_INSERT_DELIVERY = insert(deliveries)
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
_CLAIM_EVENT = {
    "postgresql": pg_insert(inbound_events).on_conflict_do_nothing(),
    "sqlite": sqlite_insert(inbound_events).on_conflict_do_nothing(),
}


def _touch_case(where: ColumnElement[bool]) -> Any:  # noqa: ANN401  # an UPDATE … RETURNING
    # One statement finds, touches and (on PostgreSQL) row-locks the case.
    return update(cases).where(where).values(updated_at=bindparam("p_now")).returning(*cases.c)


_TOUCH_ACTIVE_CASE = _touch_case(
    and_(
        cases.c.chat_platform == bindparam("p_platform"),
        cases.c.chat_id == bindparam("p_chat"),
        cases.c.status != CaseStatus.CLOSED.value,
    )
)
_TOUCH_CASE_BY_THREAD = _touch_case(
    and_(
        cases.c.thread_platform == bindparam("p_platform"),
        cases.c.thread_chat == bindparam("p_chat"),
        cases.c.thread_id == bindparam("p_thread"),
    )
)
_RECEIPT_CONTEXT = (
    select(
        cases,
        citizens.c.platform.label("citizen_platform"),
        citizens.c.user_id.label("citizen_user"),
        citizens.c.display_name.label("citizen_name"),
        citizens.c.language.label("citizen_language"),
        messages.c.source_id.label("message_source"),
    )
    .select_from(messages.join(cases, cases.c.id == messages.c.case_id))
    .join(citizens, citizens.c.id == cases.c.citizen_id)
    .where(messages.c.id == bindparam("p_message"))
)
_COMPLETE_DELIVERY = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("p_delivery"))
    .values(state=DeliveryState.SENT.value, sent_id=bindparam("p_sent"), last_error=None, updated_at=bindparam("p_now"))
)
_MARK_DELIVERED = (
    update(messages).where(messages.c.id == bindparam("p_message")).values(delivered_id=bindparam("p_delivered"))
)


def _claim_due_statement(*, skip_locked: bool) -> Any:  # noqa: ANN401  # an UPDATE … RETURNING
    """Pick the due rows (the oldest pending of each lane, not paused), push their lease, return them with threads."""
    due = deliveries.alias("due")
    earlier = deliveries.alias("earlier")
    blocked = exists().where(
        earlier.c.lane == due.c.lane,
        earlier.c.state == DeliveryState.PENDING.value,
        earlier.c.id < due.c.id,
    )
    paused = exists().where(
        target_pauses.c.target == due.c.target_platform + ":" + due.c.target_chat,
        target_pauses.c.until > bindparam("p_now"),
    )
    pick = (
        select(due.c.id)
        .where(
            due.c.state == DeliveryState.PENDING.value,
            due.c.next_attempt_at <= bindparam("p_now"),
            ~blocked,
            ~paused,
        )
        .order_by(due.c.next_attempt_at, due.c.id)
        .limit(bindparam("p_limit"))
    )
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True, of=due)

    def thread(column: ColumnElement[Any], name: str) -> Any:  # noqa: ANN401  # a labelled scalar subquery
        return select(column).where(cases.c.id == deliveries.c.case_id).scalar_subquery().label(name)

    return (
        update(deliveries)
        .where(deliveries.c.id.in_(pick.scalar_subquery()))
        .values(
            next_attempt_at=bindparam("p_lease_end"), attempts=deliveries.c.attempts + 1, updated_at=bindparam("p_now")
        )
        .returning(
            *deliveries.c,
            thread(cases.c.thread_platform, "case_thread_platform"),
            thread(cases.c.thread_chat, "case_thread_chat"),
            thread(cases.c.thread_id, "case_thread_id"),
        )
    )


_CLAIM_DUE = {skip: _claim_due_statement(skip_locked=skip) for skip in (False, True)}


class Tx:
    """One transaction's worth of queries. Created by ``Store.atomic`` / ``Store.read``."""

    def __init__(self, connection: Executor, now: datetime) -> None:
        self._c = connection
        self.now = now

    @property
    def connection(self) -> Executor:
        """The transaction's connection, for read queries a caller composes from ``bot.storage.tables``."""
        return self._c

    # --- inbound events ------------------------------------------------------------

    async def claim_event(self, platform: Platform, event_id: str) -> bool:
        """Record an inbound event; False when it was processed before."""
        values = {"platform": platform, "event_id": event_id, "received_at": self.now}
        result = await self._c.execute(_CLAIM_EVENT[self._c.dialect.name], values)
        return bool(result.rowcount == 1)

    # --- citizens --------------------------------------------------------------------

    async def citizen(self, sender: Sender) -> Citizen:
        """The stored citizen for ``sender``, created (or renamed) as needed."""
        row = (
            await self._c.execute(
                select(citizens).where(citizens.c.platform == sender.platform, citizens.c.user_id == sender.user_id)
            )
        ).first()
        if row is None:
            result = await self._c.execute(
                insert(citizens).values(
                    platform=sender.platform,
                    user_id=sender.user_id,
                    display_name=sender.display_name,
                    language=sender.language,
                    created_at=self.now,
                )
            )
            citizen_id = CitizenId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
            return Citizen(citizen_id, sender.platform, sender.user_id, sender.display_name, sender.language)
        citizen = _citizen(row)
        if (citizen.display_name, citizen.language) != (sender.display_name, sender.language or citizen.language):
            await self._c.execute(
                update(citizens)
                .where(citizens.c.id == citizen.id)
                .values(display_name=sender.display_name, language=sender.language or citizen.language)
            )
            citizen = Citizen(
                citizen.id, citizen.platform, citizen.user_id, sender.display_name, sender.language or citizen.language
            )
        return citizen

    async def citizen_by_id(self, citizen_id: CitizenId) -> Citizen | None:
        """The citizen with this id."""
        row = (await self._c.execute(select(citizens).where(citizens.c.id == citizen_id))).first()
        return None if row is None else _citizen(row)

    # --- cases -------------------------------------------------------------------------

    async def active_case(self, chat: Address) -> Case | None:
        """The citizen chat's open or pending case, if any."""
        return await self._one_case(
            and_(
                cases.c.chat_platform == chat.platform,
                cases.c.chat_id == chat.chat,
                cases.c.status != CaseStatus.CLOSED.value,
            )
        )

    async def touch_active_case(self, chat: Address) -> Case | None:
        """The chat's open or pending case, marked as active now and locked until this transaction ends."""
        return await self._touch(_TOUCH_ACTIVE_CASE, {"p_platform": chat.platform, "p_chat": chat.chat})

    async def touch_case_by_thread(self, thread: Address) -> Case | None:
        """The case whose thread this is, marked as active now and locked until this transaction ends."""
        where = {"p_platform": thread.platform, "p_chat": thread.chat, "p_thread": thread.thread}
        return await self._touch(_TOUCH_CASE_BY_THREAD, where)

    async def _touch(self, statement: Any, where: dict[str, Any]) -> Case | None:  # noqa: ANN401  # a prebuilt UPDATE
        row = (await self._c.execute(statement, {**where, "p_now": self.now})).first()
        return None if row is None else _case(row)

    async def case(self, case_id: CaseId) -> Case | None:
        """The case with this id."""
        return await self._one_case(cases.c.id == case_id)

    async def case_by_reference(self, reference: str) -> Case | None:
        """The case with this reference."""
        return await self._one_case(cases.c.reference == reference)

    async def case_by_thread(self, thread: Address) -> Case | None:
        """The case whose department thread is ``thread``."""
        return await self._one_case(
            and_(
                cases.c.thread_platform == thread.platform,
                cases.c.thread_chat == thread.chat,
                cases.c.thread_id == thread.thread,
            )
        )

    async def last_case(self, chat: Address) -> Case | None:
        """The citizen chat's most recent case, whatever its status."""
        rows = await self.cases_of_chat(chat, limit=1)
        return rows[0] if rows else None

    async def cases_of_chat(self, chat: Address, *, limit: int = 10) -> list[Case]:
        """A citizen chat's cases, newest first."""
        query = (
            select(cases)
            .where(cases.c.chat_platform == chat.platform, cases.c.chat_id == chat.chat)
            .order_by(cases.c.created_at.desc(), cases.c.id.desc())
            .limit(limit)
        )
        return [_case(row) for row in await self._c.execute(query)]

    async def cases_of_departments(self, departments: tuple[DepartmentKey, ...], *, limit: int = 200) -> list[Case]:
        """Cases of these departments: open first, then newest activity first (the desk's list)."""
        closed_last = (cases.c.status == CaseStatus.CLOSED.value).label("closed_last")
        query = (
            select(cases)
            .where(cases.c.department.in_(departments))
            .order_by(closed_last, cases.c.updated_at.desc(), cases.c.id.desc())
            .limit(limit)
        )
        return [_case(row) for row in await self._c.execute(query)]

    async def create_case(
        self,
        *,
        citizen: Citizen,
        chat: Address,
        department: DepartmentKey | None,
        status: CaseStatus,
        previous: CaseId | None,
    ) -> Case:
        """Open a new case; a racing twin makes this raise IntegrityError (``atomic`` retries)."""
        reference = new_reference()
        result = await self._c.execute(
            insert(cases).values(
                reference=reference,
                citizen_id=citizen.id,
                chat_platform=chat.platform,
                chat_id=chat.chat,
                department=department,
                status=status.value,
                previous_case_id=previous,
                created_at=self.now,
                updated_at=self.now,
            )
        )
        case_id = CaseId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
        return Case(
            id=case_id,
            reference=reference,
            citizen_id=citizen.id,
            chat=chat,
            department=department,
            status=status,
            thread=None,
            root=None,
            previous_case_id=previous,
            claimed_by=None,
            created_at=self.now,
            updated_at=self.now,
        )

    async def save_case(self, case: Case) -> Case:
        """Write a case's changeable fields (department, status, thread, claim) and touch it."""
        await self._c.execute(
            update(cases)
            .where(cases.c.id == case.id)
            .values(
                department=case.department,
                status=case.status.value,
                thread_platform=case.thread.platform if case.thread else None,
                thread_chat=case.thread.chat if case.thread else None,
                thread_id=case.thread.thread if case.thread else None,
                root_id=case.root.thread if case.root else None,
                claimed_by=case.claimed_by,
                updated_at=self.now,
            )
        )
        return replace(case, updated_at=self.now)

    async def _one_case(self, where: ColumnElement[bool]) -> Case | None:
        row = (await self._c.execute(select(cases).where(where).limit(1))).first()
        return None if row is None else _case(row)

    # --- messages ------------------------------------------------------------------------

    async def add_message(
        self,
        *,
        case_id: CaseId,
        direction: Direction,
        author: str,
        text: str,
        attachments: tuple[Attachment, ...] = (),
        source: Address | None = None,
        source_id: str | None = None,
    ) -> Message:
        """Store one message of a case."""
        result = await self._c.execute(
            _INSERT_MESSAGE,
            {
                "case_id": case_id,
                "direction": direction.value,
                "author": author,
                "text": text,
                "attachments": attachments_to_json(attachments),
                "source_platform": source.platform if source else None,
                "source_id": source_id,
                "delivered_id": None,
                "created_at": self.now,
            },
        )
        message_id = MessageId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
        return Message(message_id, case_id, direction, author, text, attachments, source_id, None, self.now)

    async def messages(self, case_id: CaseId) -> list[Message]:
        """A case's messages in the order they were stored."""
        query = select(messages).where(messages.c.case_id == case_id).order_by(messages.c.id)
        return [_message(row) for row in await self._c.execute(query)]

    async def receipt_context(self, message_id: MessageId) -> tuple[Case, Citizen, str | None] | None:
        """For a delivered staff reply: its case, the case's citizen and the reply's platform id (one query)."""
        row = (await self._c.execute(_RECEIPT_CONTEXT, {"p_message": message_id})).first()
        if row is None:
            return None
        citizen = Citizen(
            CitizenId(row.citizen_id),
            Platform(row.citizen_platform),
            row.citizen_user,
            row.citizen_name,
            row.citizen_language,
        )
        return _case(row), citizen, row.message_source

    async def message_by_source(self, platform: Platform, source_id: str) -> Message | None:
        """The stored message that came from this platform message id."""
        query = (
            select(messages)
            .where(messages.c.source_platform == platform, messages.c.source_id == source_id)
            .order_by(messages.c.id)
            .limit(1)
        )
        row = (await self._c.execute(query)).first()
        return None if row is None else _message(row)

    # --- blobs -----------------------------------------------------------------------------

    async def save_file(self, file: FileData) -> Attachment:
        """Keep a file's bytes until every delivery that carries it is done."""
        result = await self._c.execute(
            insert(blobs).values(name=file.name, mime_type=file.mime_type, data=file.data, created_at=self.now)
        )
        blob_id = BlobId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
        return Attachment(name=file.name, mime_type=file.mime_type, size=len(file.data), blob_id=blob_id)

    async def load_file(self, attachment: Attachment) -> FileData | None:
        """The bytes behind an attachment, or None if it has none stored."""
        if attachment.blob_id is None:
            return None
        row = (await self._c.execute(select(blobs.c.data).where(blobs.c.id == attachment.blob_id))).first()
        return None if row is None else FileData(attachment.name, attachment.mime_type, bytes(row.data))

    # --- outbox ----------------------------------------------------------------------------

    async def enqueue(
        self,
        *,
        case_id: CaseId | None,
        side: Side,
        lane: str,
        target: Address,
        body: Body,
        message_id: MessageId | None = None,
        in_case_thread: bool = False,
    ) -> DeliveryId:
        """Add one delivery to the outbox, due now, behind its lane's earlier rows."""
        result = await self._c.execute(
            _INSERT_DELIVERY,
            {
                "case_id": case_id,
                "message_id": message_id,
                "side": side.value,
                "lane": lane,
                "target_platform": target.platform,
                "target_chat": target.chat,
                "target_thread": target.thread,
                "in_case_thread": in_case_thread,
                "body": body_to_json(body),
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": self.now,
                "last_error": None,
                "sent_id": None,
                "created_at": self.now,
                "updated_at": self.now,
            },
        )
        return DeliveryId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key

    async def deliveries_of_case(self, case_id: CaseId) -> list[Delivery]:
        """Every outbox row of a case, oldest first (tests and the desk read them)."""
        query = select(deliveries).where(deliveries.c.case_id == case_id).order_by(deliveries.c.id)
        return [_delivery(row) for row in await self._c.execute(query)]

    async def claim_due(self, *, limit: int, lease: timedelta, skip_locked: bool) -> list[Delivery]:
        """See ``Store.claim_due`` (one statement: ``_claim_due_statement``)."""
        parameters = {"p_now": self.now, "p_lease_end": self.now + lease, "p_limit": limit}
        statement = _CLAIM_DUE[skip_locked]
        claimed = []
        for row in sorted(await self._c.execute(statement, parameters), key=lambda row: row.id):
            # ``attempts`` already counts this claim; ``next_attempt_at`` is the lease's end.
            delivery = _delivery(row)
            if delivery.in_case_thread and delivery.case_id is not None:
                target = (
                    Address(Platform(row.case_thread_platform), row.case_thread_chat, row.case_thread_id)
                    if row.case_thread_id is not None
                    else Address(delivery.target.platform, delivery.target.chat)
                )
                delivery = replace(delivery, target=target)
            claimed.append(delivery)
        return claimed

    async def complete_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        """Record several sends: one statement for the outbox rows, one for the delivered ids."""
        await self._c.execute(
            _COMPLETE_DELIVERY,
            [{"p_delivery": d.id, "p_sent": sent.message_id, "p_now": self.now} for d, sent in results],
        )
        delivered = [{"p_message": d.message_id, "p_delivered": sent.message_id} for d, sent in results if d.message_id]
        if delivered:
            await self._c.execute(_MARK_DELIVERED, delivered)
        for delivery, sent in results:
            await self._record_thread(delivery, sent)

    async def complete(self, delivery: Delivery, sent: Sent) -> None:
        """See ``Store.complete``."""
        await self.complete_all([(delivery, sent)])

    async def _record_thread(self, delivery: Delivery, sent: Sent) -> None:
        """A delivered thread root makes its platform thread the case's thread."""
        body = delivery.body
        if isinstance(body, ThreadPost) and body.kind is PostKind.ROOT and delivery.case_id is not None:
            thread = sent.thread or sent.message_id
            await self._c.execute(
                update(cases)
                .where(cases.c.id == delivery.case_id)
                .values(
                    thread_platform=delivery.target.platform,
                    thread_chat=delivery.target.chat,
                    thread_id=thread,
                    root_id=sent.message_id,
                )
            )

    async def set_delivery(
        self,
        delivery_id: DeliveryId,
        *,
        state: DeliveryState | None = None,
        next_attempt_at: datetime | None = None,
        last_error: str | None = None,
        sent_id: str | None = None,
    ) -> None:
        """Update an outbox row's state, schedule, error or platform id."""
        values: dict[str, Any] = {"updated_at": self.now, "last_error": last_error}
        if state is not None:
            values["state"] = state.value
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if sent_id is not None:
            values["sent_id"] = sent_id
        await self._c.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))

    async def pause(self, target: Address, until: datetime) -> None:
        """Hold every delivery to ``target``'s chat or channel until ``until`` (the later pause wins)."""
        key = pause_key(target)
        if self._c.dialect.name == "postgresql":
            statement: Any = pg_insert(target_pauses).values(target=key, until=until)
            statement = statement.on_conflict_do_update(
                index_elements=["target"], set_={"until": func.greatest(target_pauses.c.until, until)}
            )
        else:
            statement = sqlite_insert(target_pauses).values(target=key, until=until)
            statement = statement.on_conflict_do_update(
                index_elements=["target"], set_={"until": func.max(target_pauses.c.until, statement.excluded.until)}
            )
        await self._c.execute(statement)

    async def release(self, delivery_ids: tuple[DeliveryId, ...]) -> None:
        """See ``Store.release``."""
        await self._c.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(delivery_ids), deliveries.c.state == DeliveryState.PENDING.value)
            .values(next_attempt_at=self.now, attempts=deliveries.c.attempts - 1, updated_at=self.now)
        )

    async def outbox_stats(self) -> OutboxStats:
        """See ``Store.outbox_stats``."""
        pending = deliveries.c.state == DeliveryState.PENDING.value
        row = (await self._c.execute(select(func.count(), func.min(deliveries.c.created_at)).where(pending))).one()
        failed = (
            await self._c.execute(select(func.count()).where(deliveries.c.state == DeliveryState.FAILED.value))
        ).scalar_one()
        oldest = row[1]
        if isinstance(oldest, str):  # SQLite's min() over a column returns the raw text
            oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
        return OutboxStats(depth=int(row[0]), oldest_pending_at=oldest, failed=int(failed))

    async def next_due_at(self) -> datetime | None:
        """See ``Store.next_due_at``."""
        value = (
            await self._c.execute(
                select(func.min(deliveries.c.next_attempt_at)).where(deliveries.c.state == DeliveryState.PENDING.value)
            )
        ).scalar_one()
        if isinstance(value, str):
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert value is None or isinstance(value, datetime)  # noqa: S101  # min over a timestamp column
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _citizen(row: Row[Any]) -> Citizen:
    return Citizen(CitizenId(row.id), Platform(row.platform), row.user_id, row.display_name, row.language)


def _case(row: Row[Any]) -> Case:
    thread = (
        Address(Platform(row.thread_platform), row.thread_chat, row.thread_id) if row.thread_id is not None else None
    )
    root = (
        Address(Platform(row.thread_platform), row.thread_chat, row.root_id)
        if row.root_id is not None and row.thread_platform is not None
        else None
    )
    return Case(
        id=CaseId(row.id),
        reference=row.reference,
        citizen_id=CitizenId(row.citizen_id),
        chat=Address(Platform(row.chat_platform), row.chat_id),
        department=DepartmentKey(row.department) if row.department is not None else None,
        status=CaseStatus(row.status),
        thread=thread,
        root=root,
        previous_case_id=CaseId(row.previous_case_id) if row.previous_case_id is not None else None,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _message(row: Row[Any]) -> Message:
    return Message(
        id=MessageId(row.id),
        case_id=CaseId(row.case_id),
        direction=Direction(row.direction),
        author=row.author,
        text=row.text,
        attachments=attachments_from_json(list(row.attachments)),
        source_id=row.source_id,
        delivered_id=row.delivered_id,
        created_at=row.created_at,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=DeliveryId(row.id),
        case_id=CaseId(row.case_id) if row.case_id is not None else None,
        message_id=MessageId(row.message_id) if row.message_id is not None else None,
        side=Side(row.side),
        lane=row.lane,
        target=Address(Platform(row.target_platform), row.target_chat, row.target_thread),
        in_case_thread=bool(row.in_case_thread),
        body=body_from_json(dict(row.body)),
        state=DeliveryState(row.state),
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_id=row.sent_id,
        created_at=row.created_at,
    )
