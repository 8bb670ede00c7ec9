"""Retention: what a purge removes once data is no longer needed, in one transaction; and once-a-day claims.

Cases closed longer than the retention period are anonymised through ``bot.privacy.erase_case`` (so the
``*_PERSONAL`` columns named there are covered); attachment bytes, event ids, finished deliveries and
set-aside events that are no longer needed go on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.consultations.privacy import purge_answers
from bot.erased_in_flight import ERASED
from bot.model import CaseStatus, DeliveryState
from bot.privacy import SYSTEM_ACTOR, audit, blob_ids, deidentify_citizens, erase_case
from bot.storage.cases import case_from_row
from bot.storage.store import Tx
from bot.storage.tables import (
    audit_log,
    blobs,
    cases,
    citizens,
    deliveries,
    inbound_events,
    messages,
    scheduled_runs,
    set_aside_events,
    subscriptions,
)

#: Platforms redeliver an event for at most a few days (Telegram 24 h, Slack retries within minutes).
EVENT_ID_KEPT = timedelta(days=7)
#: Finished deliveries (their bodies hold message text) are kept this long, for support questions.
DELIVERY_KEPT = timedelta(days=30)
#: A blob younger than this may belong to a transaction still in flight: it is never collected.
BLOB_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long closed cases keep their personal data."""

    days: int = 730

    @property
    def period(self) -> timedelta:
        """The retention period."""
        return timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """What a purge removed (or, on a dry run, would remove)."""

    cases: int = 0
    citizens: int = 0
    blobs: int = 0
    event_ids: int = 0
    deliveries: int = 0
    audit_entries: int = 0
    set_aside_events: int = 0
    consultation_answers: int = 0

    def lines(self) -> list[str]:
        """One ``name: count`` line each, for the command's output."""
        return [
            f"cases anonymised: {self.cases}",
            f"citizens de-identified: {self.citizens}",
            f"attachment files deleted: {self.blobs}",
            f"inbound event ids deleted: {self.event_ids}",
            f"finished deliveries deleted: {self.deliveries}",
            f"audit entries deleted: {self.audit_entries}",
            f"set-aside events deleted: {self.set_aside_events}",
            f"consultation answers anonymised: {self.consultation_answers}",
        ]


async def _kept_blobs(tx: Tx) -> set[int]:
    """Blobs a pending delivery still carries, or a case waiting for its department will post."""
    kept: set[int] = set()
    pending = select(deliveries.c.body).where(deliveries.c.state == DeliveryState.PENDING.value)
    for row in await tx.connection.execute(pending):
        kept |= blob_ids(dict(row.body).get("attachments"))
    waiting = (
        select(messages.c.attachments)
        .join(cases, cases.c.id == messages.c.case_id)
        .where(cases.c.status == CaseStatus.PENDING.value)
    )
    for row in await tx.connection.execute(waiting):
        kept |= blob_ids(row.attachments)
    return kept


async def purge(tx: Tx, retention: Retention, *, dry_run: bool = False, actor: str = SYSTEM_ACTOR) -> PurgeCounts:
    """Apply retention now: anonymise cases closed longer than the period, drop data no longer needed."""
    c = tx.connection
    cutoff = tx.now - retention.period
    expired = [
        case_from_row(row)
        for row in await c.execute(
            select(cases).where(
                cases.c.status == CaseStatus.CLOSED.value, cases.c.updated_at < cutoff, cases.c.erased_at.is_(None)
            )
        )
    ]
    kept = await _kept_blobs(tx)
    spent_blobs = blobs.c.created_at < tx.now - BLOB_GRACE
    if kept:
        spent_blobs = and_(spent_blobs, blobs.c.id.not_in(kept))
    old_events = inbound_events.c.received_at < tx.now - EVENT_ID_KEPT
    finished = and_(
        deliveries.c.state.in_([DeliveryState.SENT.value, DeliveryState.FAILED.value]),
        deliveries.c.updated_at < tx.now - DELIVERY_KEPT,
    )
    old_audit = audit_log.c.at < cutoff
    if dry_run:

        async def count(table: Any, where: Any) -> int:  # noqa: ANN401  # a Table and a clause
            return int((await c.execute(select(func.count()).select_from(table).where(where))).scalar_one())

        live_case = exists().where(
            cases.c.citizen_id == citizens.c.id,
            cases.c.erased_at.is_(None),
            or_(cases.c.status != CaseStatus.CLOSED.value, cases.c.updated_at >= cutoff),
        )
        subscribed = exists().where(subscriptions.c.citizen_id == citizens.c.id)
        people = await count(citizens, and_(not_(live_case), not_(subscribed), citizens.c.display_name != ERASED))
        return PurgeCounts(
            cases=len(expired),
            citizens=people,
            blobs=await count(blobs, spent_blobs),
            event_ids=await count(inbound_events, old_events),
            deliveries=await count(deliveries, finished),
            audit_entries=await count(audit_log, old_audit),
            set_aside_events=await count(set_aside_events, set_aside_events.c.set_aside_at < cutoff),
        )
    for case in expired:
        await erase_case(tx, case, thread_posts=False)
    people = await deidentify_citizens(tx, created_before=tx.now)
    counts = PurgeCounts(
        cases=len(expired),
        citizens=people,
        blobs=(await c.execute(delete(blobs).where(spent_blobs))).rowcount,
        event_ids=(await c.execute(delete(inbound_events).where(old_events))).rowcount,
        deliveries=(await c.execute(delete(deliveries).where(finished))).rowcount,
        audit_entries=(await c.execute(delete(audit_log).where(old_audit))).rowcount,
        set_aside_events=await tx.purge_set_aside(before=cutoff),
        consultation_answers=await purge_answers(tx, closed_before=cutoff),
    )
    await audit(
        tx,
        actor=actor,
        action="purge",
        cases=counts.cases,
        citizens=counts.citizens,
        blobs=counts.blobs,
        deliveries=counts.deliveries,
    )
    return counts


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def claim_run(tx: Tx, task: str, *, every: timedelta) -> bool:
    """Whether this transaction may run ``task`` now: True for one process once per ``every``.

    A conditional update on the task's row: of several processes, the first to update it wins,
    the others find it already advanced (on PostgreSQL they wait on its row lock, then re-check).
    """
    insert_row = pg_insert if tx.connection.dialect.name == "postgresql" else sqlite_insert
    await tx.connection.execute(
        insert_row(scheduled_runs).values(task=task, last_run_at=_EPOCH).on_conflict_do_nothing()
    )
    result = await tx.connection.execute(
        update(scheduled_runs)
        .where(scheduled_runs.c.task == task, scheduled_runs.c.last_run_at <= tx.now - every)
        .values(last_run_at=tx.now)
    )
    return bool(result.rowcount == 1)
