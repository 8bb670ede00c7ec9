"""When a department is open, and business-time arithmetic over its hours, holidays and closures.

Pure: no clock of its own (every question takes the moment ``at``), no I/O. ``OfficeHours.always()``
is a department without office hours: open round the clock, so a target of ``8h`` is eight hours.
Arithmetic runs in UTC, so a daylight-saving change inside a span of hours counts the real hours;
the opening times themselves are wall-clock times in the office's zone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: How far ahead an opening is looked for: an office closed for longer than this "never" opens.
HORIZON_DAYS = 400

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")

Span = tuple[time, time]


class HoursError(ValueError):
    """Office hours, a day name or a duration that cannot be read; the message says how to write it."""


def parse_days(spec: str) -> tuple[int, ...]:
    """``mon-fri`` → (0, 1, 2, 3, 4); ``sat,sun`` → (5, 6); ``wed`` → (2,)."""
    found: list[int] = []
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            msg = f"{spec!r} is not a day or range of days: use mon, tue, wed, thu, fri, sat, sun, e.g. 'mon-fri'"
            raise HoursError(msg)
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            msg = f"{spec!r} runs backwards: write the earlier day first, e.g. 'mon-fri'"
            raise HoursError(msg)
        found.extend(range(start, end + 1))
    return tuple(found)


def parse_spans(spec: str) -> tuple[Span, ...]:
    """``"09:00-12:00, 13:00-17:00"`` → two spans; ``closed`` → none."""
    if spec.strip().lower() == "closed":
        return ()
    spans: list[Span] = []
    for part in spec.split(","):
        match = _SPAN.match(part)
        if match is None:
            msg = f"{spec!r} is not opening hours: write them as '09:00-17:00' (several: '09:00-12:00, 13:00-17:00')"
            raise HoursError(msg)
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):  # noqa: PLR2004 - clock limits
            msg = f"{part.strip()!r} is not a time of day: hours 00-24, minutes 00-59"
            raise HoursError(msg)
        opens, closes = time(h1, m1), time.max if h2 == 24 else time(h2, m2)  # noqa: PLR2004 - 24:00 is midnight
        if closes <= opens:
            msg = f"{part.strip()!r} closes before it opens: hours must not run past midnight"
            raise HoursError(msg)
        spans.append((opens, closes))
    spans.sort()
    for (_, closes), (opens, _) in itertools.pairwise(spans):
        if opens < closes:
            msg = f"{spec!r} has overlapping hours: merge them"
            raise HoursError(msg)
    return tuple(spans)


def parse_week(hours: Mapping[str, str]) -> dict[int, tuple[Span, ...]]:
    """``{mon-fri: "09:00-17:00", sat: "09:00-12:00"}`` → hours per weekday (0 = Monday); a day twice is an error."""
    week: dict[int, tuple[Span, ...]] = {}
    for days, spans in hours.items():
        parsed = parse_spans(spans)
        for day in parse_days(days):
            if day in week:
                msg = f"{DAYS[day]} is given hours twice (again in {days!r}): name each day once"
                raise HoursError(msg)
            week[day] = parsed
    return week


def parse_duration(spec: str) -> timedelta:
    """``8h`` → 8 hours, ``90m`` → 90 minutes, ``1h30m`` → 90 minutes; must be more than zero."""
    match = _DURATION.match(spec)
    if match is None or not any(match.groups()):
        msg = f"{spec!r} is not a duration: write hours and/or minutes of business time, e.g. '8h', '30m' or '1h30m'"
        raise HoursError(msg)
    hours, minutes = (int(group or 0) for group in match.groups())
    if not hours and not minutes:
        msg = f"{spec!r} is zero: a target must be more than zero"
        raise HoursError(msg)
    return timedelta(hours=hours, minutes=minutes)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """One department's opening hours in its time zone, minus public holidays and closure dates.

    ``week`` maps a weekday (0 = Monday) to its opening spans; a day not in it is closed. ``week`` None: always open.
    """

    zone: ZoneInfo
    week: Mapping[int, tuple[Span, ...]] | None
    calendar: holiday_calendars.HolidayBase | None = field(default=None, compare=False)
    closed: frozenset[date] = frozenset()

    @classmethod
    def always(cls, zone: ZoneInfo | None = None) -> OfficeHours:
        """Open round the clock: a department with no office hours in the routing file."""
        return cls(zone=zone or ZoneInfo("UTC"), week=None)

    @property
    def round_the_clock(self) -> bool:
        """True when the department has no office hours."""
        return self.week is None

    def is_closed_day(self, day: date) -> bool:
        """A public holiday or one of the extra closure dates."""
        return day in self.closed or (self.calendar is not None and day in self.calendar)

    def spans_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open spans (aware, in UTC) that end after ``at``, earliest first, up to ``HORIZON_DAYS`` ahead."""
        if self.week is None:
            yield at.astimezone(UTC), datetime.max.replace(tzinfo=UTC)
            return
        first = at.astimezone(self.zone).date()
        for offset in range(-1, HORIZON_DAYS):
            day = first + timedelta(days=offset)
            if self.is_closed_day(day):
                continue
            for opens, closes in self.week.get(day.weekday(), ()):
                start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
                end = _end_of(day, closes, self.zone)
                if end > at:
                    yield start, end

    def is_open(self, at: datetime) -> bool:
        """Whether the office is open at ``at``."""
        return next((start <= at for start, _ in self.spans_from(at)), False)

    def next_opening(self, at: datetime) -> datetime | None:
        """When the office next opens after ``at`` (``at`` itself while open), in its zone; None: not in the horizon."""
        for start, _ in self.spans_from(at):
            return max(start, at).astimezone(self.zone)
        return None

    def add(self, at: datetime, work: timedelta) -> datetime | None:
        """When ``work`` of business time after ``at`` has passed, in the office zone (None: past the horizon)."""
        left = work
        for start, end in self.spans_from(at):
            begin = max(start, at.astimezone(UTC))
            if begin + left <= end:
                return (begin + left).astimezone(self.zone)
            left -= end - begin
        return None


def _end_of(day: date, closes: time, zone: ZoneInfo) -> datetime:
    """The end of a span: ``time.max`` (written 24:00) is the next midnight."""
    if closes == time.max:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)


def public_holidays(country: str, subdivision: str | None) -> holiday_calendars.HolidayBase:
    """The ``holidays`` package's calendar for a country (ISO 3166-1 alpha-2) and subdivision; ValueError if unknown."""
    supported = holiday_calendars.list_supported_countries()
    if country not in supported:
        msg = f"country {country!r} is not known to the holidays package: use an ISO 3166-1 code such as 'DE'"
        raise HoursError(msg)
    if subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        msg = f"subdivision {subdivision!r} is not known for {country}: known are {known}"
        raise HoursError(msg)
    return holiday_calendars.country_holidays(country, subdiv=subdivision)
