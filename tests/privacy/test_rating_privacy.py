"""Ratings follow the privacy rules: the comment is exported, erased and purged; the bare score stays countable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.privacy import erase, export
from bot.purge import Retention, purge
from bot.ratings import Rating
from bot.storage.store import Store, Tx
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock, KeywordRouter
from tests.service.test_ratings import DIRECTORY, _closed_case


@pytest.fixture
async def bridge(store: Store, clock: FakeClock) -> AsyncIterator[Bridge]:
    """Roads asks for a rating when its staff close a case."""
    async with build_bridge(
        store, clock, directory=DIRECTORY, router=KeywordRouter({"pothole": "roads"}, "general")
    ) as built:
        yield built


async def _rated_with_comment(bridge: Bridge) -> str:
    reference = await _closed_case(bridge)
    await bridge.telegram.receive(user=1, text="4")
    await bridge.telegram.receive(user=1, text="Ada from Mill Lane says thanks")
    await bridge.settle()
    return reference


async def _rating(bridge: Bridge, reference: str) -> Rating:
    async def read(tx: Tx) -> Rating:
        case = await tx.case_by_reference(reference)
        assert case is not None
        rating = await tx.rating_of(case.id)
        assert rating is not None
        return rating

    return await bridge.store.read(read)


async def test_export_holds_the_rating_and_comment(bridge: Bridge) -> None:
    """The citizen's data export lists each case's score and comment."""
    reference = await _rated_with_comment(bridge)

    async def run(tx: Tx) -> dict[str, Any]:
        case = await tx.case_by_reference(reference)
        assert case is not None
        return await export(tx, [case])

    exported = await bridge.store.read(run)
    [entry] = exported["cases"]
    assert entry["rating"]["score"] == 4
    assert entry["rating"]["comment"] == "Ada from Mill Lane says thanks"


async def test_erasure_removes_the_comment_and_keeps_the_score(bridge: Bridge) -> None:
    """Erasing the case drops the comment (personal); the score and department stay for the reports."""
    reference = await _rated_with_comment(bridge)

    async def run(tx: Tx) -> None:
        case = await tx.case_by_reference(reference)
        assert case is not None
        await erase(tx, [case], actor="test")

    await bridge.store.atomic(run)
    rating = await _rating(bridge, reference)
    assert (rating.comment, rating.score, rating.department) == (None, 4, "roads")


async def test_retention_purge_removes_the_comment(bridge: Bridge, clock: FakeClock) -> None:
    """Past the retention period the purge drops the comment like the case's messages."""
    reference = await _rated_with_comment(bridge)
    clock.advance(timedelta(days=31).total_seconds())
    await bridge.store.atomic(lambda tx: purge(tx, Retention(days=30)))
    assert (await _rating(bridge, reference)).comment is None
