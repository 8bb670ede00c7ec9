"""Due jobs: timers kept in the database, each taken (and deleted) by exactly one transaction in one process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NewType

from sqlalchemy import Row, and_, bindparam, delete, func, insert, select

from bot.model import CaseId
from bot.storage.engine import Queries
from bot.storage.tables import due_jobs

JobId = NewType("JobId", int)


@dataclass(frozen=True, slots=True)
class DueJob:
    """Work of ``kind`` to do once ``due_at`` has passed, about ``case_id`` when it concerns a case."""

    id: JobId
    kind: str
    case_id: CaseId | None
    due_at: datetime


def _job_from_row(row: Row[Any]) -> DueJob:
    case_id = CaseId(row.case_id) if row.case_id is not None else None
    return DueJob(JobId(row.id), row.kind, case_id, row.due_at)


def _take_statement(*, skip_locked: bool) -> Any:  # noqa: ANN401  # a DELETE … RETURNING
    """Delete the earliest due job and return it; on PostgreSQL a job another transaction holds is skipped."""
    pick = (
        select(due_jobs.c.id)
        .where(due_jobs.c.due_at <= bindparam("p_now"))
        .order_by(due_jobs.c.due_at, due_jobs.c.id)
        .limit(1)
    )
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True)
    return delete(due_jobs).where(due_jobs.c.id.in_(pick.scalar_subquery())).returning(*due_jobs.c)


_TAKE = {"postgresql": _take_statement(skip_locked=True), "sqlite": _take_statement(skip_locked=False)}


class JobQueries(Queries):
    """Scheduling, cancelling and taking due jobs."""

    async def schedule_job(self, kind: str, *, due_at: datetime, case_id: CaseId | None = None) -> JobId:
        """Keep a job of ``kind`` until ``due_at``; whoever takes it first after that does it."""
        values = {"kind": kind, "case_id": case_id, "due_at": due_at, "created_at": self.now}
        result = await self._c.execute(insert(due_jobs).values(**values))
        return JobId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key

    async def cancel_jobs(self, kind: str, case_id: CaseId) -> int:
        """Drop a case's jobs of ``kind`` (the thing they waited for happened); how many there were."""
        where = and_(due_jobs.c.kind == kind, due_jobs.c.case_id == case_id)
        result = await self._c.execute(delete(due_jobs).where(where))
        return int(result.rowcount)

    async def take_due_job(self) -> DueJob | None:
        """Delete and return the earliest job due now; the caller does its work in this same transaction.

        If the transaction rolls back, the job is due again; once it commits, no other process sees it.
        """
        row = (await self._c.execute(_TAKE[self._c.dialect.name], {"p_now": self.now})).first()
        return None if row is None else _job_from_row(row)

    async def postpone_job(self, job_id: JobId, *, until: datetime) -> None:
        """Move a job whose work failed to ``until`` (it is tried again then, not in a tight loop)."""
        await self._c.execute(due_jobs.update().where(due_jobs.c.id == job_id).values(due_at=until))

    async def next_job_due_at(self) -> datetime | None:
        """When the earliest job falls due (the runner sleeps until then)."""
        due: datetime | None = (await self._c.execute(select(func.min(due_jobs.c.due_at)))).scalar_one_or_none()
        return due
