"""The report's read-only queries: SQL counts per department, per-case durations for the percentiles.

Works the same on SQLite and PostgreSQL: the database groups and counts; the durations' median and
90th percentile are taken in Python (SQLite has no ``percentile_cont``). No message text or name is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from bot.language import normalize_language
from bot.model import CaseStatus, Direction
from bot.reports.model import (
    UNKNOWN,
    UNROUTED_KEY,
    UNROUTED_NAME,
    DepartmentFigures,
    Figures,
    Hours,
    Period,
    Ratings,
    Report,
    ReportsReader,
    tally,
)
from bot.reports.ratings import case_ratings
from bot.storage.learned import LabelSource
from bot.storage.store import Store, Tx
from bot.storage.tables import audit_log, cases, citizens, learned_examples, messages

_HOUR = 3600.0
#: The audit action a staff close records (``bot.relay.staff``); its time is when the case was resolved.
CLOSE_ACTION = "close"


def _first_staff_answer() -> Any:  # noqa: ANN401  # a subquery
    """When each case got its first staff message (a reply or a saved answer; notes are not answers)."""
    return (
        select(messages.c.case_id, func.min(messages.c.created_at).label("at"))
        .where(messages.c.direction == Direction.STAFF.value)
        .group_by(messages.c.case_id)
        .subquery()
    )


def _last_close() -> Any:  # noqa: ANN401  # a subquery
    """When staff last closed each case (the audit trail; a citizen's ``new`` closes without an entry)."""
    return (
        select(audit_log.c.reference, func.max(audit_log.c.at).label("at"))
        .where(audit_log.c.action == CLOSE_ACTION)
        .group_by(audit_log.c.reference)
        .subquery()
    )


@dataclass
class _Tallies:
    """What the queries found for one department key, before it becomes ``Figures``."""

    opened: int = 0
    closed: int = 0
    with_target: int = 0
    within_target: int = 0
    transferred: int = 0
    menu_chosen: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)
    platforms: list[tuple[str, int]] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    def figures(self) -> Figures:
        return Figures(
            opened=self.opened,
            closed=self.closed,
            first_response=Hours.of(self.first_response),
            resolution=Hours.of(self.resolution),
            with_target=self.with_target,
            within_target=self.within_target,
            transferred=self.transferred,
            menu_chosen=self.menu_chosen,
            languages=tally(self.languages),
            platforms=tally(self.platforms),
            ratings=Ratings.of(self.ratings),
        )


class _Reading:
    """One report's queries over one read transaction."""

    def __init__(self, tx: Tx, period: Period) -> None:
        self._tx = tx
        self._c = tx.connection
        self._start, self._end = period.start, period.end
        self._by: dict[str, _Tallies] = {}

    def _in_period(self) -> ColumnElement[bool]:
        return and_(cases.c.created_at >= self._start, cases.c.created_at < self._end)

    def _at(self, department: str | None) -> _Tallies:
        return self._by.setdefault(department if department is not None else UNROUTED_KEY, _Tallies())

    async def read(self) -> dict[str, _Tallies]:
        await self._counts()
        await self._durations()
        await self._groups()
        for rating in await case_ratings(self._tx, start=self._start, end=self._end):
            tallies = self._at(rating.department)
            tallies.ratings.append(rating.score)
        return self._by

    async def _counts(self) -> None:
        """Opened, closed, and answer targets met, per department: one grouped query."""
        answered = _first_staff_answer()
        due = cases.c.first_answer_due_at  # the first promise; answer_due_at clears once staff answer
        known = and_(due.is_not(None), or_(answered.c.at.is_not(None), due <= self._tx.now))
        query = (
            select(
                cases.c.department,
                func.count().label("opened"),
                func.sum(case((cases.c.status == CaseStatus.CLOSED.value, 1), else_=0)).label("closed"),
                func.sum(case((known, 1), else_=0)).label("with_target"),
                func.sum(case((and_(due.is_not(None), answered.c.at < due), 1), else_=0)).label("within"),
            )
            .select_from(cases.outerjoin(answered, answered.c.case_id == cases.c.id))
            .where(self._in_period())
            .group_by(cases.c.department)
        )
        for row in await self._c.execute(query):
            tallies = self._at(row.department)
            tallies.opened = int(row.opened)
            tallies.closed = int(row.closed or 0)
            tallies.with_target = int(row.with_target or 0)
            tallies.within_target = int(row.within or 0)

    async def _durations(self) -> None:
        """Each case's first-response and resolution time, in wall-clock hours."""
        answered, closed = _first_staff_answer(), _last_close()
        query = (
            select(
                cases.c.department,
                cases.c.status,
                cases.c.created_at,
                cases.c.updated_at,
                answered.c.at.label("answered_at"),
                closed.c.at.label("closed_at"),
            )
            .select_from(
                cases.outerjoin(answered, answered.c.case_id == cases.c.id).outerjoin(
                    closed, closed.c.reference == cases.c.reference
                )
            )
            .where(self._in_period())
        )
        for row in await self._c.execute(query):
            tallies = self._at(row.department)
            opened: datetime = row.created_at
            if row.answered_at is not None:
                tallies.first_response.append(_hours(opened, row.answered_at))
            if row.status == CaseStatus.CLOSED.value:
                # Closed by the citizen (``new``) or by an erasure: no audit entry, so the last activity.
                resolved = row.closed_at or row.updated_at
                tallies.resolution.append(_hours(opened, resolved))

    async def _groups(self) -> None:
        """Languages, platforms, transfers and menu choices per department: grouped counts."""
        spoken = func.coalesce(citizens.c.chosen_language, cases.c.language, citizens.c.language)
        languages = (
            select(cases.c.department, spoken.label("language"), func.count().label("n"))
            .select_from(cases.join(citizens, citizens.c.id == cases.c.citizen_id))
            .where(self._in_period())
            .group_by(cases.c.department, spoken)
        )
        for row in await self._c.execute(languages):
            tallies = self._at(row.department)
            code = normalize_language(row.language) or UNKNOWN
            tallies.languages.append((code, int(row.n)))
        platforms = (
            select(cases.c.department, cases.c.chat_platform, func.count().label("n"))
            .where(self._in_period())
            .group_by(cases.c.department, cases.c.chat_platform)
        )
        for row in await self._c.execute(platforms):
            tallies = self._at(row.department)
            tallies.platforms.append((str(row.chat_platform), int(row.n)))
        labels = (
            select(cases.c.department, learned_examples.c.source, func.count().label("n"))
            .select_from(cases.join(learned_examples, learned_examples.c.case_id == cases.c.id))
            .where(self._in_period())
            .group_by(cases.c.department, learned_examples.c.source)
        )
        for row in await self._c.execute(labels):
            tallies = self._at(row.department)
            if row.source == LabelSource.TRANSFER.value:
                tallies.transferred += int(row.n)
            elif row.source == LabelSource.MENU.value:
                tallies.menu_chosen += int(row.n)


def _hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / _HOUR)


def _overall(tallies: Mapping[str, _Tallies]) -> _Tallies:
    every = list(tallies.values())

    def joined(name: str) -> list[Any]:
        return [item for t in every for item in getattr(t, name)]

    return _Tallies(
        opened=sum(t.opened for t in every),
        closed=sum(t.closed for t in every),
        with_target=sum(t.with_target for t in every),
        within_target=sum(t.within_target for t in every),
        transferred=sum(t.transferred for t in every),
        menu_chosen=sum(t.menu_chosen for t in every),
        first_response=joined("first_response"),
        resolution=joined("resolution"),
        languages=joined("languages"),
        platforms=joined("platforms"),
        ratings=joined("ratings"),
    )


def build_report(period: Period, names: Mapping[str, str], tallies: Mapping[str, _Tallies]) -> Report:
    """The report: every routing-file department in order (even with no cases), then the rest, then unrouted."""
    keys = [*names, *sorted(k for k in tallies if k not in names and k != UNROUTED_KEY)]
    if UNROUTED_KEY in tallies:
        keys.append(UNROUTED_KEY)
    rows = tuple(
        DepartmentFigures(
            key,
            UNROUTED_NAME if key == UNROUTED_KEY else names.get(key, key),
            tallies.get(key, _Tallies()).figures(),
        )
        for key in keys
    )
    return Report(period, rows, _overall(tallies).figures())


class StoreReports(ReportsReader):
    """``ReportsReader`` over the store: one read-only transaction per report."""

    def __init__(self, *, store: Store) -> None:
        self._store = store

    def today(self, zone: tzinfo) -> date:
        """Today's date in ``zone`` by the store's clock."""
        return self._store.now().astimezone(zone).date()

    async def report(self, period: Period, names: Mapping[str, str]) -> Report:
        """See ``ReportsReader.report``."""

        async def read(tx: Tx) -> dict[str, _Tallies]:
            return await _Reading(tx, period).read()

        return build_report(period, names, await self._store.read(read))
