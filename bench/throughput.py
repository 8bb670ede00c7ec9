"""Measurement 1: citizen messages per second through the whole core, beside bare two-insert transactions."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from bench.common import Options, Row, database
from bench.core import Core, running_core
from bot.events import CitizenMessage
from bot.model import CaseCard, CaseStatus, DepartmentKey, Direction, Platform, PostKind, Side, ThreadPost
from bot.storage.codec import attachments_to_json, body_to_json
from bot.storage.store import Store, Tx
from bot.storage.tables import cases, citizens, deliveries, messages

PRODUCERS = 8
NAME = "1 relay throughput"
NAME_APART = "1b relay throughput, routing apart"


def sizes(options: Options) -> tuple[int, int]:
    """(messages, cases): 10,000 over 1,000 in full, a tenth in --quick."""
    return (1_000, 100) if options.quick else (10_000, 1_000)


def events(core: Core, total: int, case_count: int) -> list[CitizenMessage]:
    """Round after round, each citizen writes once: the first round opens the cases."""
    rounds = total // case_count
    return [
        core.citizen_message(
            citizen,
            core.first_text(citizen) if r == 0 else f"Further detail number {r} about my case, see above.",
            f"tp-{r}-{citizen}",
        )
        for r in range(rounds)
        for citizen in range(case_count)
    ]


async def relay_rate(store: Store, total: int, case_count: int, *, routed_once: bool = False) -> tuple[float, int]:
    """Messages per second from the first accept until every delivery they caused was sent.

    ``routed_once``: each distinct first text is routed once (``bench.core.RoutedOnce``), so the
    rate is the relay's own, apart from the router's cost.
    """
    expected = total + case_count  # a thread post for every message, and one acknowledgement per case
    done = asyncio.Event()
    count = 0

    def sent(_out: object) -> None:
        nonlocal count
        count += 1
        if count >= expected:
            done.set()

    async with running_core(store, on_citizen_send=sent, on_department_send=sent, routed_once=routed_once) as core:
        work = events(core, total, case_count)

        async def produce(share: list[CitizenMessage]) -> None:
            for event in share:
                await core.relay.accept(event)

        started = time.perf_counter()
        await asyncio.gather(*(produce(work[p::PRODUCERS]) for p in range(PRODUCERS)))
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
    return total / elapsed, count


async def floor_rate(store: Store, total: int) -> float:
    """Bare transactions, same engine and concurrency: insert one message row and one outbox row each."""
    engine = store.engine
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        citizen_id = (
            await connection.execute(
                insert(citizens).values(
                    platform="telegram", user_id="floor", display_name="Floor", language="en", created_at=now
                )
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # one-column key
        case_id = (
            await connection.execute(
                insert(cases).values(
                    reference="FL-000000",
                    citizen_id=citizen_id,
                    chat_platform="telegram",
                    chat_id="floor",
                    department="general",
                    status="closed",
                    created_at=now,
                    updated_at=now,
                )
            )
        ).inserted_primary_key[0]  # type: ignore[index]  # one-column key
    card = CaseCard("FL-000000", DepartmentKey("general"), "General", Platform("telegram"), "Floor", "en",
                    CaseStatus.OPEN, None)  # fmt: skip
    body = body_to_json(ThreadPost(PostKind.CITIZEN, card, "Further detail about my case, see above.", "Floor"))
    # Built once and bound per call, as the relay's hot inserts are.
    insert_message, insert_delivery = insert(messages), insert(deliveries)

    async def one(n: int) -> None:
        # Through the store's own transaction path (on a SQLite file: one hop to its database
        # thread, one writer at a time), as the relay's transactions go: only the work differs.
        async def two_inserts(tx: Tx) -> None:
            connection = tx.connection
            message_id = (
                await connection.execute(
                    insert_message,
                    {
                        "case_id": case_id,
                        "direction": Direction.CITIZEN.value,
                        "author": "Floor",
                        "text": f"Further detail number {n} about my case, see above.",
                        "attachments": attachments_to_json(()),
                        "source_platform": "telegram",
                        "source_id": f"floor-{n}",
                        "created_at": now,
                    },
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # one-column key
            await connection.execute(
                insert_delivery,
                {
                    "case_id": case_id,
                    "message_id": message_id,
                    "side": Side.DEPARTMENT.value,
                    "lane": f"case:{case_id}",
                    "target_platform": "slack",
                    "target_chat": "C0GENERAL1",
                    "in_case_thread": True,
                    "body": body,
                    "state": "sent",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
            )

        await store.atomic(two_inserts)

    async def produce(numbers: range) -> None:
        for n in numbers:
            await one(n)

    started = time.perf_counter()
    await asyncio.gather(*(produce(range(p, total, PRODUCERS)) for p in range(PRODUCERS)))
    return total / (time.perf_counter() - started)


async def measure(backend: str, options: Options) -> list[Row]:
    """Relay throughput and its floor on one backend; then the same with routing apart, on a fresh database."""
    total, case_count = sizes(options)
    async with database(backend, options) as db:
        floor = await floor_rate(db.store, total)
        relay, sends = await relay_rate(db.store, total, case_count)
    async with database(backend, options) as db:
        apart, sends_apart = await relay_rate(db.store, total, case_count, routed_once=True)
    notes = f"{total:,} msgs over {case_count:,} cases, {PRODUCERS} producers, worker draining"

    def beside_floor(name: str, rate: float, sends: int, notes: str) -> Row:
        figures = {"relay_msgs_per_s": rate, "floor_tx_per_s": floor, "sends": sends, "messages": total}
        return Row(
            name, backend, f"{rate:,.0f} msg/s", figures, floor=f"{floor:,.0f} tx/s", ratio=rate / floor, notes=notes
        )

    return [
        beside_floor(NAME, relay, sends, notes),
        beside_floor(
            NAME_APART,
            apart,
            sends_apart,
            f"{notes}; each distinct first text routed once (the relay without the encoder's cost)",
        ),
    ]
