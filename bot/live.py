"""Live events for open pages (web chat, desk): publish small id-only events, subscribe to topics.

``LocalLiveEvents`` fans events out inside one process (SQLite runs one process).
``PostgresLiveEvents`` carries them between processes with ``LISTEN``/``NOTIFY``:
every process listens on one channel and hands what arrives to its own local
subscribers, so a page connected to any process hears what any process sent.
Payloads hold ids only (a delivery id, a case reference), never message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

#: What an event carries: a few ids, JSON-encodable.
EventData = Mapping[str, str | int]
#: Events a subscriber may fall behind by before it is dropped (its page reconnects and catches up).
BACKLOG = 100
#: NOTIFY payloads must stay under 8000 bytes; ours are a few dozen.
_MAX_PAYLOAD = 7000


@dataclass(eq=False, slots=True)
class Subscription:
    """One subscriber's queue of events; ``None`` in the queue means: the subscription ended."""

    topics: tuple[str, ...]
    queue: asyncio.Queue[EventData | None] = field(default_factory=lambda: asyncio.Queue(maxsize=BACKLOG))
    closed: bool = False

    async def next(self, timeout: float) -> EventData | None:  # noqa: ASYNC109  # the caller's keepalive period
        """The next event; ``{}`` after ``timeout`` seconds of silence; None once the subscription ended."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=timeout)
        except TimeoutError:
            return {} if not self.closed else None

    def close(self) -> None:
        """End the subscription: its reader gets None next."""
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class LiveEvents(Protocol):
    """Publish an event to a topic; subscribe to topics. Delivery is best effort: pages catch up on reconnect."""

    async def publish(self, topic: str, data: EventData) -> None:
        """Send ``data`` to every subscriber of ``topic``, in whichever process."""

    def subscribe(self, topics: tuple[str, ...]) -> contextlib.AbstractContextManager[Subscription]:
        """Receive the events of ``topics`` while the context lasts."""


class LocalLiveEvents(LiveEvents):
    """Fan-out within this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def publish(self, topic: str, data: EventData) -> None:
        """See ``LiveEvents.publish``."""
        self.dispatch(topic, data)

    def dispatch(self, topic: str, data: EventData) -> int:
        """Hand ``data`` to this process's subscribers of ``topic``; returns how many got it."""
        reached = 0
        for subscription in list(self._subscribers.get(topic, ())):
            try:
                subscription.queue.put_nowait(data)
                reached += 1
            except asyncio.QueueFull:
                self._forget(subscription)
                subscription.close()
        return reached

    @contextlib.contextmanager
    def subscribe(self, topics: tuple[str, ...]) -> Iterator[Subscription]:
        """See ``LiveEvents.subscribe``."""
        subscription = Subscription(topics)
        for topic in topics:
            self._subscribers.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._forget(subscription)

    def _forget(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[topic]


def channel_name(database: str, schema: str) -> str:
    """The NOTIFY channel of one bridge database and schema (channels are per database, not per schema)."""
    return "civic_live_" + hashlib.sha256(f"{database}\0{schema}".encode()).hexdigest()[:16]


class PostgresLiveEvents(LiveEvents):
    """Events between processes over PostgreSQL ``LISTEN``/``NOTIFY`` on one held connection.

    ``async with`` it to listen; the connection is re-opened if it is lost (events
    published meanwhile are missed; pages catch up when they reload their history).
    """

    def __init__(self, *, engine: AsyncEngine, retry_after: float = 1.0) -> None:
        self._engine = engine
        self._local = LocalLiveEvents()
        self._retry_after = retry_after
        self._connection: AsyncConnection | None = None
        self._channel: str | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._started_once = False
        self._pid: int | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._listen(), name="live-events")
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._task.done():
            self._task.result()  # the first connection failed: say why
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def listening(self) -> bool:
        """Whether the listening connection is up."""
        return self._ready.is_set()

    @property
    def listener_pid(self) -> int | None:
        """The PostgreSQL backend process of the listening connection (for operators' queries), if up."""
        return self._pid

    async def publish(self, topic: str, data: EventData) -> None:
        """See ``LiveEvents.publish``: one NOTIFY; this process hears it back like every other."""
        payload = json.dumps({"t": topic, "d": dict(data)}, separators=(",", ":"))
        if len(payload) > _MAX_PAYLOAD:
            log.warning("live event too large to carry; dropped")
            return
        async with self._lock:
            connection = self._connection
            if connection is None or self._channel is None:
                # Not listening right now: at least this process's pages hear it.
                self._local.dispatch(topic, data)
                return
            try:
                raw = await self._raw(connection)
                await raw.execute("SELECT pg_notify($1, $2)", self._channel, payload)
            except Exception as error:  # noqa: BLE001  # a lost live event must never fail the send that caused it
                log.warning("live events: cannot notify (%s); only this process's pages hear it", type(error).__name__)
                self._local.dispatch(topic, data)

    def subscribe(self, topics: tuple[str, ...]) -> contextlib.AbstractContextManager[Subscription]:
        """See ``LiveEvents.subscribe``."""
        return self._local.subscribe(topics)

    @staticmethod
    async def _raw(connection: AsyncConnection) -> Any:  # noqa: ANN401  # asyncpg's Connection (untyped package)
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            topic, data = str(message["t"]), dict(message["d"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed live event")
            return
        self._local.dispatch(topic, data)

    async def _listen(self) -> None:
        """Hold a listening connection; open a new one whenever it is lost."""
        while True:
            lost = asyncio.Event()
            try:
                async with self._engine.connect() as connection:
                    raw = await self._raw(connection)
                    names = await raw.fetchrow("SELECT current_database() AS db, current_schema() AS schema")
                    channel = channel_name(str(names["db"]), str(names["schema"]))
                    raw.add_termination_listener(lambda _c, lost=lost: lost.set())
                    await raw.add_listener(channel, self._heard)
                    self._pid = int(raw.get_server_pid())
                    async with self._lock:
                        self._connection, self._channel = connection, channel
                    self._ready.set()
                    self._started_once = True
                    try:
                        await lost.wait()
                    finally:
                        self._ready.clear()
                        self._pid = None
                        async with self._lock:
                            self._connection, self._channel = None, None
                        if not raw.is_closed():
                            with contextlib.suppress(Exception):
                                await raw.remove_listener(channel, self._heard)
                log.warning("live events: the listening connection was lost; opening a new one")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self._started_once:
                    raise
                log.warning("live events: cannot listen (%s); retrying", type(error).__name__)
            await asyncio.sleep(self._retry_after)
