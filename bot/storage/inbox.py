"""The desk's inbox queries: views (mine, unassigned, overdue, …) with counts, and search."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy import case as when_then

from bot.model import Case, CaseStatus, CitizenId, DepartmentKey, Direction
from bot.storage.cases import case_from_row
from bot.storage.engine import Queries
from bot.storage.tables import cases, citizens, messages
from bot.views import InboxQuery, InboxView

#: Which character escapes ``%``, ``_`` and itself in a LIKE pattern.
_ESCAPE = "\\"


def overdue(now: datetime) -> ColumnElement[bool]:
    """Whether a case's answer is late: flagged by its breach timer, or due before ``now``; never a closed case.

    ``answer_due_at`` is set while an answer is owed (the citizen wrote last) and cleared when staff answer;
    the due time also counts before the breach timer has run, so the inbox never lags behind the clock.
    """
    late = or_(cases.c.overdue.is_(True), and_(cases.c.answer_due_at.is_not(None), cases.c.answer_due_at < now))
    return and_(cases.c.status != CaseStatus.CLOSED.value, late)


def like_pattern(text: str) -> str:
    """``%text%`` with the LIKE wildcards in ``text`` escaped: a search for ``50%`` finds exactly ``50%``."""
    escaped = text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def searched(text: str) -> ColumnElement[bool]:
    """Cases whose reference, any message or citizen (name, platform id, or ``platform:id``) contains ``text``."""
    text = " ".join(text.split())
    if not text:
        return true()
    pattern = like_pattern(text)
    in_messages = exists().where(
        messages.c.case_id == cases.c.id,
        messages.c.direction != Direction.SYSTEM.value,
        messages.c.text.ilike(pattern, escape=_ESCAPE),
    )
    platform, colon, user_id = text.partition(":")
    exact_id: ColumnElement[bool] = false()
    if colon:
        exact_id = and_(citizens.c.platform == platform.strip(), citizens.c.user_id == user_id.strip())
    by_citizen = exists().where(
        citizens.c.id == cases.c.citizen_id,
        or_(
            citizens.c.display_name.ilike(pattern, escape=_ESCAPE),
            citizens.c.user_id.ilike(pattern, escape=_ESCAPE),
            exact_id,
        ),
    )
    return or_(cases.c.reference.ilike(pattern, escape=_ESCAPE), in_messages, by_citizen)


def _in_view(view: InboxView, officer: str, now: datetime) -> ColumnElement[bool]:
    not_closed = cases.c.status != CaseStatus.CLOSED.value
    return {
        InboxView.OPEN: not_closed,
        InboxView.MINE: and_(not_closed, cases.c.claimed_by == officer),
        InboxView.UNASSIGNED: and_(not_closed, cases.c.claimed_by.is_(None)),
        InboxView.OVERDUE: overdue(now),
        InboxView.CLOSED: cases.c.status == CaseStatus.CLOSED.value,
    }[view]


class InboxQueries(Queries):
    """The desk inbox's reads."""

    async def inbox_cases(self, query: InboxQuery) -> list[tuple[Case, bool]]:
        """The cases of the query's view and search, newest activity first, each with whether it is overdue."""
        if not query.chosen:
            return []
        now = self.now
        closed_last = (cases.c.status == CaseStatus.CLOSED.value).label("closed_last")
        statement = (
            select(cases, overdue(now).label("is_overdue"))
            .where(
                cases.c.department.in_(query.chosen),
                _in_view(query.view, query.officer, now),
                searched(query.search),
            )
            .order_by(closed_last, cases.c.updated_at.desc(), cases.c.id.desc())
            .limit(query.limit)
        )
        return [(case_from_row(row), bool(row.is_overdue)) for row in await self._c.execute(statement)]

    async def inbox_counts(self, query: InboxQuery) -> dict[InboxView, int]:
        """How many of the query's departments' cases each view holds (the search left aside)."""
        if not query.chosen:
            return dict.fromkeys(InboxView, 0)
        now = self.now
        columns = [
            func.coalesce(func.sum(when_then((_in_view(view, query.officer, now), 1), else_=0)), 0).label(view.value)
            for view in InboxView
        ]
        row = (await self._c.execute(select(*columns).where(cases.c.department.in_(query.chosen)))).one()
        return {view: int(getattr(row, view.value)) for view in InboxView}

    async def open_per_department(self, departments: tuple[DepartmentKey, ...]) -> dict[DepartmentKey, int]:
        """How many cases not closed each of these departments has."""
        if not departments:
            return {}
        statement = (
            select(cases.c.department, func.count())
            .where(cases.c.department.in_(departments), cases.c.status != CaseStatus.CLOSED.value)
            .group_by(cases.c.department)
        )
        return {DepartmentKey(row[0]): int(row[1]) for row in await self._c.execute(statement)}

    async def cases_of_citizen(self, citizen_id: CitizenId, *, limit: int = 20) -> list[Case]:
        """A citizen's cases, newest first (the case page lists the others beside the one open)."""
        statement = select(cases).where(cases.c.citizen_id == citizen_id).order_by(cases.c.id.desc()).limit(limit)
        return [case_from_row(row) for row in await self._c.execute(statement)]
