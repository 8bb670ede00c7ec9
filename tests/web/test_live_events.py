"""Live events between processes on PostgreSQL (LISTEN/NOTIFY), and within one process on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.live import LocalLiveEvents, PostgresLiveEvents
from tests.backends import open_store
from tests.waiting import eventually

#: How long a test waits for an event before it fails.
DEADLINE = 10.0


async def test_local_events_reach_subscribers_of_their_topic_only() -> None:
    """In one process, an event reaches the subscribers of its topic and no one else."""
    live = LocalLiveEvents()
    with live.subscribe(("chat:a",)) as mine, live.subscribe(("chat:b",)) as other:
        await live.publish("chat:a", {"type": "message", "id": "d1"})
        assert await mine.next(DEADLINE) == {"type": "message", "id": "d1"}
        assert other.queue.empty()


@pytest.mark.postgres
async def test_postgres_events_reach_a_subscriber_on_another_connection(tmp_path: Path) -> None:
    """An event published by one process's listener reaches a subscriber of another process's listener."""
    async with (
        open_store("postgres", tmp_path) as store,
        PostgresLiveEvents(engine=store.engine) as sender,
        PostgresLiveEvents(engine=store.engine) as hearer,
    ):
        with hearer.subscribe(("desk:roads",)) as subscription:
            await sender.publish("desk:roads", {"type": "case", "reference": "CB-1234"})
            assert await subscription.next(DEADLINE) == {"type": "case", "reference": "CB-1234"}


@pytest.mark.postgres
async def test_postgres_events_stay_within_their_schema(tmp_path: Path) -> None:
    """Two bridges on one database in different schemas never hear each other's events."""
    async with (
        open_store("postgres", tmp_path) as one,
        open_store("postgres", tmp_path) as two,
        PostgresLiveEvents(engine=one.engine) as first,
        PostgresLiveEvents(engine=two.engine) as second,
    ):
        with second.subscribe(("chat:x",)) as stranger, first.subscribe(("chat:x",)) as own:
            await first.publish("chat:x", {"type": "message", "id": "d7"})
            assert await own.next(DEADLINE) == {"type": "message", "id": "d7"}
            assert await stranger.next(0.5) == {}  # silence: a keepalive tick, no event


@pytest.mark.postgres
async def test_postgres_listener_comes_back_after_its_connection_is_killed(tmp_path: Path) -> None:
    """When a process's listening connection dies, it listens again and hears other processes' events once more."""
    async with (
        open_store("postgres", tmp_path) as store,
        PostgresLiveEvents(engine=store.engine) as sender,
        PostgresLiveEvents(engine=store.engine, retry_after=0.1) as hearer,
    ):
        killed = hearer.listener_pid
        assert killed is not None
        async with store.engine.connect() as connection:
            await connection.exec_driver_sql(f"SELECT pg_terminate_backend({int(killed)})")
        with hearer.subscribe(("chat:y",)) as subscription:

            async def heard() -> bool:
                await sender.publish("chat:y", {"type": "refresh"})
                return await subscription.next(0.2) == {"type": "refresh"}

            await eventually(heard, what="events through a new listening connection")
        assert hearer.listener_pid not in {None, killed}
