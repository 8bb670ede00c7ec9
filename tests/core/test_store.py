"""The storage contract, run on every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.events import Sender
from bot.model import (
    SLACK,
    TELEGRAM,
    Address,
    CaseStatus,
    CitizenReply,
    DeliveryState,
    Direction,
    FileData,
    ReplyKind,
    Sent,
    Side,
)
from bot.storage import migrate
from bot.storage.store import Store, Tx
from tests.backends import postgres_schema, postgres_url
from tests.fakes import FakeClock

CHAT = Address(TELEGRAM, "111")
SENDER = Sender(TELEGRAM, "111", "Ada", "en")


def _reply(text: str) -> CitizenReply:
    return CitizenReply(ReplyKind.SYSTEM, text, "CB-TEST")


async def _open_case(store: Store, chat: Address = CHAT) -> int:
    async def work(tx: Tx) -> int:
        citizen = await tx.citizen(SENDER)
        case = await tx.create_case(citizen=citizen, chat=chat, department=None, status=CaseStatus.OPEN, previous=None)
        return case.id

    return await store.atomic(work)


async def _enqueue(store: Store, lane: str, text: str, case_id: int | None = None) -> int:
    async def work(tx: Tx) -> int:
        return await tx.enqueue(
            case_id=case_id,  # type: ignore[arg-type]  # tests pass plain ints for ids
            side=Side.CITIZEN,
            lane=lane,
            target=CHAT,
            body=_reply(text),
        )

    return await store.atomic(work)


async def test_an_event_is_claimed_once(store: Store) -> None:
    """Claiming the same platform event twice succeeds only the first time."""

    async def claim(tx: Tx) -> bool:
        return await tx.claim_event(TELEGRAM, "update-1")

    assert [await store.atomic(claim), await store.atomic(claim)] == [True, False]


async def test_same_event_id_on_two_platforms_are_two_events(store: Store) -> None:
    """Event ids are unique per platform, not across platforms."""

    async def claim(tx: Tx) -> tuple[bool, bool]:
        return await tx.claim_event(TELEGRAM, "42"), await tx.claim_event(SLACK, "42")

    assert await store.atomic(claim) == (True, True)


async def test_a_chat_has_one_open_case_at_most(store: Store) -> None:
    """The database refuses a second open case for one citizen chat."""
    await _open_case(store)

    async def second(tx: Tx) -> None:
        citizen = await tx.citizen(SENDER)
        await tx.create_case(citizen=citizen, chat=CHAT, department=None, status=CaseStatus.OPEN, previous=None)

    with pytest.raises(IntegrityError):
        async with store.engine.begin() as connection:
            await second(Tx(connection, store.now()))


async def test_a_closed_case_makes_room_for_a_new_one(store: Store) -> None:
    """After its case closes, a chat can open another."""
    case_id = await _open_case(store)

    async def close(tx: Tx) -> None:
        case = await tx.case(case_id)  # type: ignore[arg-type]  # plain int id
        assert case is not None
        await tx.save_case(replace(case, status=CaseStatus.CLOSED))

    await store.atomic(close)
    assert await _open_case(store) != case_id


async def test_two_cases_cannot_share_a_thread(store: Store) -> None:
    """One department thread belongs to one case."""
    first = await _open_case(store, Address(TELEGRAM, "1"))
    second = await _open_case(store, Address(TELEGRAM, "2"))
    thread = Address(SLACK, "C0ROADS", "1700000000.0001")

    async def attach(tx: Tx, case_id: int) -> None:
        case = await tx.case(case_id)  # type: ignore[arg-type]  # plain int id
        assert case is not None
        await tx.save_case(replace(case, thread=thread))

    await store.atomic(lambda tx: attach(tx, first))
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as connection:
            await attach(Tx(connection, store.now()), second)


async def test_claim_takes_only_the_oldest_row_of_each_lane(store: Store) -> None:
    """Rows of one lane are claimed one at a time, oldest first; other lanes go in parallel."""
    await _enqueue(store, "lane-a", "a1")
    await _enqueue(store, "lane-a", "a2")
    await _enqueue(store, "lane-b", "b1")
    claimed = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    assert sorted(d.body.text for d in claimed) == ["a1", "b1"]


async def test_a_sent_row_lets_the_next_in_its_lane_go(store: Store) -> None:
    """Once a lane's head is sent, the row behind it is claimed."""
    await _enqueue(store, "lane-a", "a1")
    await _enqueue(store, "lane-a", "a2")
    [head] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    await store.complete(head, Sent("m1"))
    [after] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    assert after.body.text == "a2"


async def test_a_claim_whose_worker_died_comes_back_after_the_lease(store: Store, clock: FakeClock) -> None:
    """A claimed row that was never completed is due again once its lease runs out."""
    await _enqueue(store, "lane-a", "a1")
    [first] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    assert await store.claim_due(limit=10, lease=timedelta(seconds=60)) == []
    clock.advance(61)
    [again] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    assert (again.id, again.attempts) == (first.id, 2)


async def test_a_row_held_for_retry_blocks_its_lane(store: Store, clock: FakeClock) -> None:
    """A row waiting for its retry keeps the rows behind it waiting: order within a lane holds."""
    await _enqueue(store, "lane-a", "a1")
    await _enqueue(store, "lane-a", "a2")
    [head] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    await store.retry_later(head.id, at=clock.now + timedelta(seconds=30), error="429")
    assert await store.claim_due(limit=10, lease=timedelta(seconds=60)) == []
    clock.advance(31)
    assert [d.body.text for d in await store.claim_due(limit=10, lease=timedelta(seconds=60))] == ["a1"]


async def test_failed_rows_leave_the_outbox_and_are_counted(store: Store) -> None:
    """A permanently failed row is no longer pending and shows in the failure count."""
    await _enqueue(store, "lane-a", "a1")
    [head] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    await store.fail(head.id, error="blocked")
    stats = await store.outbox_stats()
    assert (stats.depth, stats.failed) == (0, 1)


async def test_outbox_stats_report_depth_and_oldest_pending(store: Store, clock: FakeClock) -> None:
    """Outbox stats give the number of pending rows and when the oldest was queued."""
    queued_at = clock.now
    await _enqueue(store, "lane-a", "a1")
    clock.advance(5)
    await _enqueue(store, "lane-b", "b1")
    stats = await store.outbox_stats()
    assert (stats.depth, stats.oldest_pending_at) == (2, queued_at)


async def test_files_round_trip_through_the_blob_store(store: Store) -> None:
    """A saved file comes back byte for byte."""
    photo = FileData("hole.jpg", "image/jpeg", bytes(range(256)) * 10)

    async def round_trip(tx: Tx) -> FileData | None:
        attachment = await tx.save_file(photo)
        return await tx.load_file(attachment)

    assert await store.atomic(round_trip) == photo


async def test_messages_keep_their_order_and_direction(store: Store) -> None:
    """A case's messages come back in the order stored, with their direction."""
    case_id = await _open_case(store)

    async def write(tx: Tx) -> None:
        for direction, text in [(Direction.CITIZEN, "hi"), (Direction.STAFF, "hello"), (Direction.NOTE, "note: x")]:
            await tx.add_message(case_id=case_id, direction=direction, author="a", text=text)  # type: ignore[arg-type]  # plain int id

    await store.atomic(write)

    async def read(tx: Tx) -> list[tuple[Direction, str]]:
        return [(m.direction, m.text) for m in await tx.messages(case_id)]  # type: ignore[arg-type]  # plain int id

    assert await store.read(read) == [
        (Direction.CITIZEN, "hi"),
        (Direction.STAFF, "hello"),
        (Direction.NOTE, "note: x"),
    ]


async def test_sent_deliveries_are_marked_sent(store: Store) -> None:
    """Completing a delivery records its state and the platform's message id."""
    case_id = await _open_case(store)
    await _enqueue(store, "lane-a", "a1", case_id)
    [head] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    await store.complete(head, Sent("platform-77"))

    async def read(tx: Tx) -> tuple[DeliveryState, str | None]:
        [row] = await tx.deliveries_of_case(case_id)  # type: ignore[arg-type]  # plain int id
        return row.state, row.sent_id

    assert await store.read(read) == (DeliveryState.SENT, "platform-77")


async def test_released_claims_are_due_again_at_once(store: Store) -> None:
    """A claim given back at shutdown is claimable immediately, its attempt not counted."""
    await _enqueue(store, "lane-a", "a1")
    [first] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    await store.release(((first.id, first.attempts),))
    [again] = await store.claim_due(limit=10, lease=timedelta(seconds=60))
    assert (again.id, again.attempts) == (first.id, 1)


@pytest.mark.postgres
async def test_processes_migrating_at_once_do_not_collide() -> None:
    """Several processes upgrading the same new database at the same moment all succeed."""
    url = postgres_url()
    assert url is not None
    async with postgres_schema(url) as schema:
        engines = [
            create_async_engine(url, connect_args={"server_settings": {"search_path": schema}}) for _ in range(3)
        ]
        try:
            await asyncio.gather(*(migrate.upgrade(engine) for engine in engines))
            assert await migrate.current_revision(engines[0]) == migrate.head_revision()
        finally:
            for engine in engines:
                await engine.dispose()
