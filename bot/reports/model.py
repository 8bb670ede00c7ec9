"""What a report holds: frozen figures per department and overall, the period they cover, and who reads them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

#: The key and name of the report's row over every department.
OVERALL_KEY = "(all)"
OVERALL_NAME = "All departments"
#: The row of cases still waiting for the citizen's menu choice (no department yet).
UNROUTED_KEY = "(none)"
UNROUTED_NAME = "Not routed yet"
#: A language or platform not known.
UNKNOWN = "?"
#: A report covers this many days when no ``since`` is given.
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Period:
    """Cases opened on office dates ``since`` up to, not including, ``until``, in the office time zone."""

    since: date
    until: date
    zone: tzinfo = UTC

    @property
    def start(self) -> datetime:
        """The first instant counted: midnight starting ``since`` in the office time zone."""
        return datetime.combine(self.since, time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant not counted: midnight starting ``until`` in the office time zone."""
        return datetime.combine(self.until, time(), self.zone).astimezone(UTC)

    @property
    def zone_name(self) -> str:
        """The office time zone's name, as the routing file gives it."""
        return str(getattr(self.zone, "key", self.zone))


class PeriodError(ValueError):
    """A date range a person gave cannot be used; the message says how to write it."""


def parse_day(value: str, *, name: str) -> date:
    """An office date written ``YYYY-MM-DD``; ``PeriodError`` names the field and the form."""
    text = value.strip()
    parts = text.split("-")
    if len(text) == len("2026-01-31") and len(parts) == 3 and all(p.isdigit() for p in parts):  # noqa: PLR2004  # Y-M-D
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    msg = f"{name} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31"
    raise PeriodError(msg)


def period_of(
    since: str | None, until: str | None, *, today: date, zone: tzinfo, labels: tuple[str, str] = ("since", "until")
) -> Period:
    """The period a form or command asks for: ``until`` defaults to tomorrow (today counts), ``since`` 30 days before.

    ``labels`` name the two fields in error messages (``--since`` on the command line, a form's labels on the desk).
    """
    end = parse_day(until, name=labels[1]) if until else today + timedelta(days=1)
    start = parse_day(since, name=labels[0]) if since else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        msg = f"{labels[0]} ({start}) must be before {labels[1]} ({end}); {labels[1]} is the first day not counted"
        raise PeriodError(msg)
    return Period(start, end, zone)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile by linear interpolation between ranks (PostgreSQL's ``percentile_cont``)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class Hours:
    """A duration's spread over cases, in wall-clock hours (nights, weekends and holidays count)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, hours: Sequence[float]) -> Hours:
        """The median and 90th percentile of these durations."""
        return cls(len(hours), percentile(hours, 0.5), percentile(hours, 0.9))


@dataclass(frozen=True, slots=True)
class Ratings:
    """Satisfaction ratings (1–5) citizens gave the cases: how many, their mean, and how many gave each score."""

    count: int = 0
    mean: float | None = None
    distribution: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @classmethod
    def of(cls, scores: Sequence[int]) -> Ratings:
        """Ratings from the scores given (anything outside 1–5 is ignored)."""
        valid = [s for s in scores if 1 <= s <= 5]  # noqa: PLR2004  # the rating scale
        counts = tuple(valid.count(score) for score in range(1, 6))
        mean = sum(valid) / len(valid) if valid else None
        return cls(len(valid), mean, (counts[0], counts[1], counts[2], counts[3], counts[4]))


@dataclass(frozen=True, slots=True)
class Figures:
    """One department's (or every department's) figures for the cases opened in the period."""

    opened: int = 0
    closed: int = 0
    first_response: Hours = field(default_factory=Hours)
    resolution: Hours = field(default_factory=Hours)
    #: Cases with an answer target whose outcome is known: answered, or the target has passed unanswered.
    with_target: int = 0
    #: Of those, the cases whose first staff answer came before the target.
    within_target: int = 0
    #: Cases staff transferred to another department (the router's misroutes).
    transferred: int = 0
    #: Cases whose department the citizen chose from the routing menu.
    menu_chosen: int = 0
    #: Cases by the citizen's language, most first (``?`` when unknown).
    languages: tuple[tuple[str, int], ...] = ()
    #: Cases by the platform the citizen wrote from, most first.
    platforms: tuple[tuple[str, int], ...] = ()
    ratings: Ratings = field(default_factory=Ratings)

    @property
    def within_target_share(self) -> float | None:
        """The share (0–1) of cases with a known outcome answered within target; None when there are none."""
        return self.within_target / self.with_target if self.with_target else None


@dataclass(frozen=True, slots=True)
class DepartmentFigures:
    """A department's row of the report."""

    key: str
    name: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class Report:
    """The figures of every department and overall, for one period."""

    period: Period
    departments: tuple[DepartmentFigures, ...]
    overall: Figures

    @property
    def rows(self) -> tuple[DepartmentFigures, ...]:
        """Every department's row, then the overall row."""
        return (*self.departments, DepartmentFigures(OVERALL_KEY, OVERALL_NAME, self.overall))


def tally(counts: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """Counts summed per key, most first, then by key; ``?`` (unknown) last."""
    summed: dict[str, int] = {}
    for key, count in counts:
        summed[key] = summed.get(key, 0) + count
    return tuple(sorted(summed.items(), key=lambda item: (item[0] == UNKNOWN, -item[1], item[0])))


class ReportsReader(Protocol):
    """Reads a report from the database (``bot.reports.queries.StoreReports``); adapters get one injected."""

    def today(self, zone: tzinfo) -> date:
        """Today's date in ``zone`` by the bridge's clock."""

    async def report(self, period: Period, names: Mapping[str, str]) -> Report:
        """The figures of cases opened in ``period``; ``names`` are the departments in routing-file order."""
