"""Office hours and business time: weekends, public holidays, closure dates and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.office_hours import HoursError, OfficeHours, parse_duration, parse_week, public_holidays
from tests.fakes import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")


def berlin_office(*, closed: frozenset[date] = frozenset()) -> OfficeHours:
    """Mon-Fri 09:00-17:00, Sat 09:00-12:00 in Berlin, with Berlin's public holidays."""
    return OfficeHours(
        zone=BERLIN,
        week=parse_week({"mon-fri": "09:00-17:00", "sat": "09:00-12:00"}),
        calendar=public_holidays("DE", "BE"),
        closed=closed,
    )


def at_berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_open_on_a_weekday_and_closed_in_the_evening() -> None:
    """A clock moved through a Monday finds the office open at noon and closed at 18:00."""
    clock = FakeClock()
    clock.now = at_berlin(2026, 1, 5, 12).astimezone(UTC)
    office = berlin_office()
    assert office.is_open(clock())
    clock.advance(6 * 3600)
    assert not office.is_open(clock())


def test_after_saturday_closing_the_office_opens_again_on_monday() -> None:
    """Saturday 13:00 is after Saturday's hours: the next opening is Monday 09:00, Sunday being closed."""
    office = berlin_office()
    assert office.next_opening(at_berlin(2026, 1, 10, 13)) == at_berlin(2026, 1, 12, 9)


def test_a_public_holiday_is_skipped() -> None:
    """Good Friday (3 April 2026) and Easter Monday (6 April) are Berlin holidays: both are skipped."""
    office = berlin_office()
    assert not office.is_open(at_berlin(2026, 4, 3, 10))
    assert office.next_opening(at_berlin(2026, 4, 2, 18)) == at_berlin(2026, 4, 4, 9)
    assert office.next_opening(at_berlin(2026, 4, 4, 12)) == at_berlin(2026, 4, 7, 9)


def test_an_extra_closure_date_is_skipped() -> None:
    """A closure date from the routing file closes a normal Wednesday."""
    office = berlin_office(closed=frozenset({date(2026, 1, 7)}))
    assert not office.is_open(at_berlin(2026, 1, 7, 10))
    assert office.next_opening(at_berlin(2026, 1, 6, 17)) == at_berlin(2026, 1, 8, 9)


def test_hours_stay_on_the_wall_clock_across_daylight_saving() -> None:
    """After clocks go forward (29 March 2026) the office still opens at 09:00 local, which is now 07:00 UTC."""
    office = berlin_office()
    before = office.next_opening(at_berlin(2026, 3, 27, 18))
    after = office.next_opening(at_berlin(2026, 3, 28, 13))
    assert before == at_berlin(2026, 3, 28, 9)
    assert before is not None
    assert before.astimezone(UTC).hour == 8
    assert after == at_berlin(2026, 3, 30, 9)
    assert after is not None
    assert after.astimezone(UTC).hour == 7


def test_eight_business_hours_from_friday_afternoon_end_on_monday() -> None:
    """8h from Friday 15:00: 2h Friday, 3h Saturday, 3h Monday: due Monday 12:00."""
    office = berlin_office()
    assert office.add(at_berlin(2026, 1, 9, 15), parse_duration("8h")) == at_berlin(2026, 1, 12, 12)


def test_business_time_over_daylight_saving_weekend() -> None:
    """8h from Friday 27 March 16:00 over the spring-forward Sunday: 1h, 3h Saturday, 4h Monday: Monday 13:00 CEST."""
    office = berlin_office()
    due = office.add(at_berlin(2026, 3, 27, 16), timedelta(hours=8))
    assert due == at_berlin(2026, 3, 30, 13)


def test_business_time_over_a_holiday() -> None:
    """1h30m from Thursday 2 April 16:30 (before Easter): 30m Thursday, then Saturday 09:00-10:00."""
    office = berlin_office()
    assert office.add(at_berlin(2026, 4, 2, 16, 30), parse_duration("1h30m")) == at_berlin(2026, 4, 4, 10)


def test_round_the_clock_without_office_hours() -> None:
    """A department without office hours is always open and 8h is eight clock hours."""
    office = OfficeHours.always()
    moment = datetime(2026, 1, 10, 23, tzinfo=UTC)
    assert office.is_open(moment)
    assert office.add(moment, timedelta(hours=8)) == moment + timedelta(hours=8)


@pytest.mark.parametrize(
    ("hours", "fault"),
    [
        ({"mon-fri": "9-17"}, "is not opening hours"),
        ({"fri-mon": "09:00-17:00"}, "runs backwards"),
        ({"mon-fri": "09:00-17:00", "fri": "10:00-12:00"}, "given hours twice"),
        ({"mon": "17:00-09:00"}, "closes before it opens"),
        ({"funday": "09:00-17:00"}, "is not a day"),
    ],
)
def test_unreadable_hours_say_how_to_write_them(hours: dict[str, str], fault: str) -> None:
    """Each way of getting the weekly hours wrong is refused with a sentence naming the fault."""
    with pytest.raises(HoursError, match=fault):
        parse_week(hours)
