"""Reminders and breaches fire exactly once when two bridge instances (own pools, one PostgreSQL) run the timers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.model import PostKind
from bot.storage.migrate import upgrade
from bot.storage.store import Store
from tests.backends import postgres_schema, postgres_url
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock, KeywordRouter
from tests.service.test_answer_clock import DIRECTORY, KEYWORDS, madrid

pytestmark = pytest.mark.postgres

CASES = 12


@asynccontextmanager
async def two_instances(clock: FakeClock) -> AsyncIterator[tuple[Bridge, Bridge]]:
    """Two bridges, each with its own engine and connection pool, on one PostgreSQL schema."""
    url = postgres_url()
    assert url is not None
    async with postgres_schema(url) as schema:
        stores = [
            Store(
                engine=create_async_engine(url, connect_args={"server_settings": {"search_path": schema}}), clock=clock
            )
            for _ in range(2)
        ]
        try:
            await upgrade(stores[0].engine)
            router = KeywordRouter(KEYWORDS, "general")
            async with (
                build_bridge(stores[0], clock, directory=DIRECTORY, router=router) as first,
                build_bridge(stores[1], clock, directory=DIRECTORY, router=router) as second,
            ):
                yield first, second
        finally:
            for store in stores:
                await store.close()


async def test_reminders_and_breaches_fire_once_across_two_instances(clock: FakeClock) -> None:
    """Both instances run the due timers at once: every case gets one reminder and one escalation in all."""
    async with two_instances(clock) as (first, second):
        clock.now = madrid(8, 9)
        for user in range(1, CASES + 1):
            await first.telegram.receive(user=user, text="There is a pothole")
        await first.settle()
        clock.now = madrid(8, 15, 30)
        reminded = [
            *await asyncio.gather(first.relay.run_due_jobs(limit=5), second.relay.run_due_jobs(limit=5)),
            *await asyncio.gather(first.relay.run_due_jobs(), second.relay.run_due_jobs()),
        ]
        clock.now = madrid(8, 17)
        breached = await asyncio.gather(first.relay.run_due_jobs(), second.relay.run_due_jobs())
        await first.settle()
        await second.settle()
        assert sum(reminded) == CASES
        assert sum(breached) == CASES
        posts = [*first.slack.escalations, *second.slack.escalations]
        assert sorted(post.card.reference for _, post in posts) == sorted({post.card.reference for _, post in posts})
        assert len(posts) == CASES
        reminders = [
            post
            for bridge in (first, second)
            for thread in bridge.slack.threads
            for post in thread.posts
            if post.kind is PostKind.SYSTEM and post.text.startswith("Reminder:")
        ]
        assert len(reminders) == CASES
