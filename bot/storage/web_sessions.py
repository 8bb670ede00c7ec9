"""The queries behind ``bot.sessions.WebSessions``: session rows, one-time links and shared rate counters."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.model import Address, CitizenReply, DeliveryId, Side
from bot.sessions import Allowance, SessionKind, SessionRecord, WebSessions, token_hash
from bot.storage.codec import body_from_json
from bot.storage.engine import Executor, Queries
from bot.storage.tables import citizens, deliveries, rate_counters, web_sessions
from bot.views import SentReply

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.storage.store import Store

T = TypeVar("T")

#: Rate-limit rows older than this are deleted whenever a window starts again.
_COUNTER_RETENTION = timedelta(hours=1)


class SessionQueries(Queries):
    """One transaction's worth of session and rate-limit queries."""

    async def open(self, kind: SessionKind, token: str, subject: str, proof: str, lifetime: timedelta) -> None:
        """Insert a session row; first delete the expired ones (an indexed range)."""
        await self._c.execute(delete(web_sessions).where(web_sessions.c.expires_at < self.now))
        values = {
            "token_hash": token_hash(token),
            "kind": kind.value,
            "subject": subject,
            "proof": proof,
            "created_at": self.now,
            "expires_at": self.now + lifetime,
        }
        await self._c.execute(web_sessions.insert().values(values))

    async def find(self, kind: SessionKind, token: str) -> SessionRecord | None:
        """The unexpired row of ``token`` (by primary key)."""
        query = select(web_sessions.c.subject, web_sessions.c.proof, web_sessions.c.expires_at).where(
            web_sessions.c.token_hash == token_hash(token),
            web_sessions.c.kind == kind.value,
            web_sessions.c.expires_at > self.now,
        )
        row = (await self._c.execute(query)).one_or_none()
        return SessionRecord(row.subject, row.proof, row.expires_at) if row is not None else None

    async def extend(self, kind: SessionKind, token: str, lifetime: timedelta) -> None:
        """Push the end of one session."""
        await self._c.execute(
            update(web_sessions)
            .where(web_sessions.c.token_hash == token_hash(token), web_sessions.c.kind == kind.value)
            .values(expires_at=self.now + lifetime)
        )

    async def end(self, kind: SessionKind, token: str) -> bool:
        """Delete one session row; whether an unexpired one was there."""
        result = await self._c.execute(
            delete(web_sessions).where(
                web_sessions.c.token_hash == token_hash(token),
                web_sessions.c.kind == kind.value,
                web_sessions.c.expires_at > self.now,
            )
        )
        return bool(result.rowcount == 1)

    async def end_all(self, kind: SessionKind, subject: str) -> int:
        """Delete every session of ``subject``."""
        result = await self._c.execute(
            delete(web_sessions).where(web_sessions.c.kind == kind.value, web_sessions.c.subject == subject)
        )
        return int(result.rowcount)

    async def hit(self, key: str, limit: int, window: timedelta) -> Allowance:
        """Count one attempt in ``key``'s fixed window (a new window once the last one has passed)."""
        stale = rate_counters.c.window_start <= self.now - window
        values = {"key": key, "window_start": self.now, "hits": 1}
        insert = pg_insert(rate_counters) if self._c.dialect.name == "postgresql" else sqlite_insert(rate_counters)
        upsert = (
            insert.values(values)
            .on_conflict_do_update(
                index_elements=[rate_counters.c.key],
                set_={
                    "hits": _case(stale, 1, rate_counters.c.hits + 1),
                    "window_start": _case(stale, self.now, rate_counters.c.window_start),
                },
            )
            .returning(rate_counters.c.hits, rate_counters.c.window_start)
        )
        row = (await self._c.execute(upsert)).one()
        if row.hits == 1:
            await self._c.execute(
                delete(rate_counters).where(rate_counters.c.window_start < self.now - _COUNTER_RETENTION)
            )
        if row.hits <= limit:
            return Allowance(allowed=True)
        wait = (row.window_start + window - self.now).total_seconds()
        return Allowance(allowed=False, retry_after=max(1, math.ceil(wait)))

    async def has_chat(self, chat: Address) -> bool:
        """Whether a citizen is stored for ``chat``."""
        query = select(citizens.c.id).where(citizens.c.platform == chat.platform, citizens.c.user_id == chat.chat)
        return (await self._c.execute(query)).first() is not None

    async def chat_reply(self, chat: Address, delivery_id: DeliveryId) -> SentReply | None:
        """The citizen reply queued as ``delivery_id``, if it went to ``chat``."""
        query = select(deliveries.c.body, deliveries.c.created_at).where(
            deliveries.c.id == delivery_id,
            deliveries.c.side == Side.CITIZEN.value,
            deliveries.c.target_platform == chat.platform,
            deliveries.c.target_chat == chat.chat,
        )
        row = (await self._c.execute(query)).one_or_none()
        if row is None:
            return None
        body = body_from_json(dict(row.body))
        return SentReply(delivery_id, body, row.created_at) if isinstance(body, CitizenReply) else None


def _case(condition: ColumnElement[bool], then: Any, otherwise: Any) -> ColumnElement[Any]:  # noqa: ANN401  # a value or a column
    return sql_case((condition, then), else_=otherwise)


class StoreSessions(WebSessions):
    """``WebSessions`` over the store: each call is one short transaction."""

    def __init__(self, *, store: Store) -> None:
        self._store = store

    def now(self) -> datetime:
        """The store's clock."""
        return self._store.now()

    async def _run(self, work: Callable[[SessionQueries], Awaitable[T]], *, write: bool) -> T:
        def body(connection: Executor, now: datetime) -> Awaitable[T]:
            return work(SessionQueries(connection, now))

        return await self._store.transaction(body, write=write)

    async def open(self, kind: SessionKind, token: str, *, subject: str, lifetime: timedelta, proof: str = "") -> None:
        """See ``WebSessions.open``."""
        await self._run(lambda q: q.open(kind, token, subject, proof, lifetime), write=True)

    async def find(self, kind: SessionKind, token: str) -> SessionRecord | None:
        """See ``WebSessions.find``."""
        return await self._run(lambda q: q.find(kind, token), write=False)

    async def extend(self, kind: SessionKind, token: str, *, lifetime: timedelta) -> None:
        """See ``WebSessions.extend``."""
        await self._run(lambda q: q.extend(kind, token, lifetime), write=True)

    async def end(self, kind: SessionKind, token: str) -> None:
        """See ``WebSessions.end``."""
        await self._run(lambda q: q.end(kind, token), write=True)

    async def end_all(self, kind: SessionKind, subject: str) -> int:
        """See ``WebSessions.end_all``."""
        return await self._run(lambda q: q.end_all(kind, subject), write=True)

    async def take(self, kind: SessionKind, token: str) -> bool:
        """See ``WebSessions.take``: the delete decides, so two processes cannot both use one link."""
        return await self._run(lambda q: q.end(kind, token), write=True)

    async def hit(self, key: str, *, limit: int, window: timedelta) -> Allowance:
        """See ``WebSessions.hit``."""
        return await self._run(lambda q: q.hit(key, limit, window), write=True)

    async def has_chat(self, chat: Address) -> bool:
        """See ``WebSessions.has_chat``."""
        return await self._run(lambda q: q.has_chat(chat), write=False)

    async def chat_reply(self, chat: Address, delivery_id: DeliveryId) -> SentReply | None:
        """See ``WebSessions.chat_reply``."""
        return await self._run(lambda q: q.chat_reply(chat, delivery_id), write=False)


__all__ = ["SessionQueries", "StoreSessions"]
