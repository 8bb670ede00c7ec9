"""What a department promises a citizen: whether it is open, when it opens, when a first answer is due.

Pure functions over ``Department`` (its ``OfficeHours`` and targets) and a moment ``now`` the caller
takes from its clock; the relay adds their sentences to the acknowledgement, the web chat shows the status.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import texts
from bot.departments import Department
from bot.speech import Voice

#: Within this span an opening is told as a weekday and time (``Monday 9:00``); beyond it, with its date.
WEEK = timedelta(days=6)


def answer_due(department: Department, now: datetime) -> datetime | None:
    """When the first answer to a case opened ``now`` is due; None when the department promises none."""
    if department.first_response is None:
        return None
    return department.hours.add(now, department.first_response)


def promise(voice: Voice, department: Department, *, now: datetime, due: datetime | None) -> list[str]:
    """The sentences the acknowledgement adds: when a closed office opens again, and when to expect an answer."""
    zone = department.hours.zone
    said: list[str] = []
    if not department.hours.is_open(now):
        opening = department.hours.next_opening(now)
        if opening is not None:
            said.append(voice.say(texts.OFFICE_CLOSED, opening=voice.when_in_words(opening, zone)))
    if due is not None:
        said.append(voice.say(texts.ANSWER_DUE, due=voice.when_in_words(due, zone)))
    return said


def office_status(voice: Voice, department: Department, *, now: datetime) -> str | None:
    """``Open now`` / ``Opens Monday 9:00`` for a department with office hours; None for one open round the clock."""
    hours = department.hours
    if hours.round_the_clock:
        return None
    if hours.is_open(now):
        return voice.say(texts.WEB_OPEN_NOW)
    opening = hours.next_opening(now)
    if opening is None:
        return None
    when = voice.weekday_time(opening, hours.zone) if opening - now < WEEK else voice.when_in_words(opening, hours.zone)
    return voice.say(texts.WEB_OPENS, opening=when)
