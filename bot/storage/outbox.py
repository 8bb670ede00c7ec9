"""The outbox: deliveries waiting to be sent, their lanes, leases and outcomes, and rate-limit pauses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, delete, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.model import (
    Address,
    Body,
    CaseId,
    Delivery,
    DeliveryId,
    DeliveryState,
    MessageId,
    Platform,
    PostKind,
    Sent,
    Side,
    ThreadPost,
)
from bot.storage.codec import body_from_json, body_to_json
from bot.storage.engine import Queries
from bot.storage.tables import cases, deliveries, messages, target_pauses

#: ``deliveries.priority``: case traffic goes first; bulk rows wait for it and for their platform's budget.
CASE_PRIORITY, BULK_PRIORITY = 0, 1


def bulk_lane(target: Address) -> str:
    """The lane of bulk deliveries to one chat: they go out in order, one at a time, apart from case lanes."""
    return f"bulk:{target.platform}:{target.chat}"


def pause_key(target: Address) -> str:
    """What a rate-limit pause applies to: one chat or channel of one platform."""
    return f"{target.platform}:{target.chat}"


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """How the outbox stands: pending rows, the oldest case-traffic one's creation time, permanent failures.

    A broadcast draining at its platform's pace for an hour is not a stuck outbox: ``oldest_pending_at``
    looks at case traffic only; ``bulk_depth`` counts the broadcast rows among ``depth``.
    """

    depth: int
    oldest_pending_at: datetime | None
    failed: int
    bulk_depth: int = 0


def delivery_from_row(row: Row[Any]) -> Delivery:
    """A ``Delivery`` from a ``deliveries`` row."""
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
        bulk=row.priority == BULK_PRIORITY,
    )


_INSERT_DELIVERY = insert(deliveries)
#: Rows per executemany of ``enqueue_bulk`` (bounded memory for the driver's batch).
_INSERT_CHUNK = 5_000
#: A claim is visible to every process at once; only a server crash could lose it, and then the
#: rows are simply due again (a send may repeat, as at-least-once allows): no WAL flush.
ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
_COMPLETE_DELIVERY = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("p_delivery"))
    .values(state=DeliveryState.SENT.value, sent_id=bindparam("p_sent"), last_error=None, updated_at=bindparam("p_now"))
)
_MARK_DELIVERED = (
    update(messages).where(messages.c.id == bindparam("p_message")).values(delivered_id=bindparam("p_delivered"))
)


def lane_head_and_free(due: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:  # noqa: ANN401  # an alias
    """For a ``deliveries`` alias: (an earlier row of its lane is pending, its chat is paused by a 429 at ``p_now``)."""
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
    return blocked, paused


def _claim_due_statement(*, skip_locked: bool) -> Any:  # noqa: ANN401  # an UPDATE … RETURNING
    """Pick the due rows (the oldest pending of each lane, not paused), push their lease, return them with threads."""
    due = deliveries.alias("due")
    blocked, paused = lane_head_and_free(due)
    pick = (
        select(due.c.id)
        .where(
            due.c.state == DeliveryState.PENDING.value,
            due.c.priority == CASE_PRIORITY,
            due.c.next_attempt_at <= bindparam("p_now"),
            ~blocked,
            ~paused,
        )
        .order_by(due.c.priority, due.c.next_attempt_at, due.c.id)
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


class OutboxQueries(Queries):
    """Queueing deliveries, claiming the due ones, recording how each went, pausing a target."""

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
        bulk: bool = False,
    ) -> DeliveryId:
        """Add one delivery to the outbox, due now, behind its lane's earlier rows.

        ``bulk``: a broadcast to a subscriber, sent after case traffic and within its platform's bulk budget.
        """
        row = self._delivery_row(
            case_id=case_id,
            side=side,
            lane=lane,
            target=target,
            body=body_to_json(body),
            message_id=message_id,
            in_case_thread=in_case_thread,
            bulk=bulk,
        )
        result = await self._c.execute(_INSERT_DELIVERY, row)
        return DeliveryId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key

    async def enqueue_bulk(
        self,
        side: Side,
        targets_and_bodies: Sequence[tuple[Address, Body]],
        *,
        case_id: CaseId | None = None,
        lane: Callable[[Address], str] = bulk_lane,
    ) -> int:
        """Add one bulk delivery per (target, body), due now, in one batched insert; returns how many.

        Each goes in its target's lane (``bulk_lane``: ``bulk:{platform}:{chat}``); a body shared by
        every target is encoded once. Expired per-chat spacing marks are swept here, once per broadcast.
        """
        encoded: dict[int, dict[str, Any]] = {}
        rows = []
        for target, body in targets_and_bodies:
            json_body = encoded.get(id(body))
            if json_body is None:
                json_body = encoded[id(body)] = body_to_json(body)
            rows.append(
                self._delivery_row(
                    case_id=case_id, side=side, lane=lane(target), target=target, body=json_body, bulk=True
                )
            )
        for start in range(0, len(rows), _INSERT_CHUNK):
            await self._c.execute(_INSERT_DELIVERY, rows[start : start + _INSERT_CHUNK])
        self.bulk_queued = self.bulk_queued or bool(rows)
        await self._c.execute(
            delete(target_pauses).where(target_pauses.c.target.startswith("bulk:"), target_pauses.c.until < self.now)
        )
        return len(rows)

    def _delivery_row(  # one outbox row's columns
        self,
        *,
        case_id: CaseId | None,
        side: Side,
        lane: str,
        target: Address,
        body: dict[str, Any],
        message_id: MessageId | None = None,
        in_case_thread: bool = False,
        bulk: bool,
    ) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "message_id": message_id,
            "side": side.value,
            "lane": lane,
            "target_platform": target.platform,
            "target_chat": target.chat,
            "target_thread": target.thread,
            "in_case_thread": in_case_thread,
            "body": body,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": self.now,
            "last_error": None,
            "sent_id": None,
            "created_at": self.now,
            "updated_at": self.now,
            "priority": BULK_PRIORITY if bulk else CASE_PRIORITY,
        }

    async def deliveries_of_case(self, case_id: CaseId) -> list[Delivery]:
        """Every outbox row of a case, oldest first (tests and the desk read them)."""
        query = select(deliveries).where(deliveries.c.case_id == case_id).order_by(deliveries.c.id)
        return [delivery_from_row(row) for row in await self._c.execute(query)]

    async def claim_due(self, *, limit: int, lease: timedelta, skip_locked: bool) -> list[Delivery]:
        """See ``Store.claim_due`` (one statement: ``_claim_due_statement``)."""
        parameters = {"p_now": self.now, "p_lease_end": self.now + lease, "p_limit": limit}
        statement = _CLAIM_DUE[skip_locked]
        claimed = []
        for row in sorted(await self._c.execute(statement, parameters), key=lambda row: row.id):
            # ``attempts`` already counts this claim; ``next_attempt_at`` is the lease's end.
            delivery = delivery_from_row(row)
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
        claimed_attempts: int | None = None,
    ) -> None:
        """Update an outbox row's state, schedule, error or platform id.

        With ``claimed_attempts``, only while the claim that counted that many attempts still holds the row.
        """
        values: dict[str, Any] = {"updated_at": self.now, "last_error": last_error}
        if state is not None:
            values["state"] = state.value
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if sent_id is not None:
            values["sent_id"] = sent_id
        statement = update(deliveries).where(deliveries.c.id == delivery_id)
        if claimed_attempts is not None:
            statement = statement.where(deliveries.c.attempts == claimed_attempts)
        await self._c.execute(statement.values(**values))

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

    async def release(self, claims: Sequence[tuple[DeliveryId, int]]) -> None:
        """See ``Store.release``: only rows still held by the claim that counted ``attempts``."""
        for delivery_id, attempts in claims:
            await self._c.execute(
                update(deliveries)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.state == DeliveryState.PENDING.value,
                    deliveries.c.attempts == attempts,  # another process claimed it since: its claim now
                )
                .values(next_attempt_at=self.now, attempts=deliveries.c.attempts - 1, updated_at=self.now)
            )

    async def outbox_stats(self) -> OutboxStats:
        """See ``Store.outbox_stats``."""
        pending = deliveries.c.state == DeliveryState.PENDING.value
        # Two index ranges (``ix_deliveries_pending_priority``), not one pass over every pending row.
        case_row = (
            await self._c.execute(
                select(func.count(), func.min(deliveries.c.created_at)).where(
                    pending, deliveries.c.priority == CASE_PRIORITY
                )
            )
        ).one()
        bulk_depth = (
            await self._c.execute(select(func.count()).where(pending, deliveries.c.priority == BULK_PRIORITY))
        ).scalar_one()
        row = (int(case_row[0]) + int(bulk_depth), case_row[1], bulk_depth)
        failed = (
            await self._c.execute(select(func.count()).where(deliveries.c.state == DeliveryState.FAILED.value))
        ).scalar_one()
        oldest = row[1]
        if isinstance(oldest, str):  # SQLite's min() over a column returns the raw text
            oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
        return OutboxStats(depth=int(row[0]), oldest_pending_at=oldest, failed=int(failed), bulk_depth=int(row[2]))

    async def next_due_at(self) -> datetime | None:
        """See ``Store.next_due_at``: the earliest a lane head may go, after its target's pause; rows behind wait."""
        later = func.greatest if self._c.dialect.name == "postgresql" else func.max
        value = (await self._c.execute(_next_due_statement(later))).scalar_one()
        if isinstance(value, str):
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert value is None or isinstance(value, datetime)  # noqa: S101  # min over a timestamp column
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _next_due_statement(later: Any) -> Any:  # noqa: ANN401  # ``func.greatest`` or SQLite's two-argument ``max``; a SELECT
    """When the next claim of case traffic can find something: the lane heads' due times, after their target's pause.

    Bulk rows are left to ``BulkQueries.next_bulk_at`` (their platform's budget decides).

    A row behind its lane's head, or to a paused target, is not claimable however due it is:
    counting it made an idle worker look again at once, over and over (a busy loop on the database).
    """
    head = deliveries.alias("head")
    earlier = deliveries.alias("earlier")
    blocked = exists().where(
        earlier.c.lane == head.c.lane,
        earlier.c.state == DeliveryState.PENDING.value,
        earlier.c.id < head.c.id,
    )
    pause = (
        select(target_pauses.c.until)
        .where(target_pauses.c.target == head.c.target_platform + ":" + head.c.target_chat)
        .scalar_subquery()
    )
    due = later(head.c.next_attempt_at, func.coalesce(pause, head.c.next_attempt_at))
    return select(func.min(due)).where(
        head.c.state == DeliveryState.PENDING.value, head.c.priority == CASE_PRIORITY, ~blocked
    )
