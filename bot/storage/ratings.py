"""Ratings: one row per closed case, written when the citizen is asked, so no case is ever asked twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.model import CaseId
from bot.ratings import RatedCase, Rating
from bot.storage.engine import Queries
from bot.storage.tables import case_ratings, cases


def _rating_from_row(row: Row[Any]) -> Rating:
    return Rating(
        case_id=CaseId(row.case_id),
        department=row.department,
        asked_at=row.asked_at,
        score=row.score,
        rated_at=row.rated_at,
        comment=row.comment,
        commented_at=row.commented_at,
    )


class RatingQueries(Queries):
    """Asking, recording and counting satisfaction ratings."""

    async def ask_rating(self, case_id: CaseId, department: str | None) -> bool:
        """Note that the case's citizen is asked now; False when they were asked before (never ask twice)."""
        insert = pg_insert if self._c.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(case_ratings)
            .values(case_id=case_id, department=department, asked_at=self.now)
            .on_conflict_do_nothing(index_elements=[case_ratings.c.case_id])
        )
        result = await self._c.execute(statement)
        return int(result.rowcount) == 1

    async def rating_of(self, case_id: CaseId) -> Rating | None:
        """The case's rating row (asked, maybe answered), if its citizen was asked."""
        row = (await self._c.execute(select(case_ratings).where(case_ratings.c.case_id == case_id))).first()
        return None if row is None else _rating_from_row(row)

    async def save_score(self, case_id: CaseId, score: int) -> bool:
        """Record the citizen's score; False when the case was already rated (the first rating stands)."""
        statement = (
            update(case_ratings)
            .where(case_ratings.c.case_id == case_id, case_ratings.c.score.is_(None))
            .values(score=score, rated_at=self.now)
        )
        return int((await self._c.execute(statement)).rowcount) == 1

    async def save_rating_comment(self, case_id: CaseId, comment: str) -> bool:
        """Record the citizen's comment on their rating; False when there already is one."""
        statement = (
            update(case_ratings)
            .where(case_ratings.c.case_id == case_id, case_ratings.c.comment.is_(None))
            .values(comment=comment, commented_at=self.now)
        )
        return int((await self._c.execute(statement)).rowcount) == 1

    async def ratings_of_cases_opened(self, start: datetime, end: datetime) -> list[RatedCase]:
        """Every score given to a case opened in ``[start, end)``, with the case's department (the reports' period)."""
        query = (
            select(cases.c.department, case_ratings.c.score, case_ratings.c.rated_at)
            .join(cases, cases.c.id == case_ratings.c.case_id)
            .where(case_ratings.c.score.is_not(None), cases.c.created_at >= start, cases.c.created_at < end)
            .order_by(case_ratings.c.rated_at, case_ratings.c.case_id)
        )
        return [RatedCase(row.department, int(row.score), row.rated_at) for row in await self._c.execute(query)]

    async def ratings_between(self, since: datetime | None, until: datetime | None) -> list[RatedCase]:
        """Every score given in ``[since, until)`` (either end open when None), oldest first, for the reports."""
        where: list[ColumnElement[bool]] = [case_ratings.c.score.is_not(None)]
        if since is not None:
            where.append(case_ratings.c.rated_at >= since)
        if until is not None:
            where.append(case_ratings.c.rated_at < until)
        query = (
            select(case_ratings.c.department, case_ratings.c.score, case_ratings.c.rated_at)
            .where(and_(*where))
            .order_by(case_ratings.c.rated_at, case_ratings.c.case_id)
        )
        return [RatedCase(row.department, int(row.score), row.rated_at) for row in await self._c.execute(query)]
