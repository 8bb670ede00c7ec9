"""What a department promises a citizen: whether it is open, when it opens, when a first answer is due.

Pure functions over ``Department`` (its ``OfficeHours`` and targets) and a moment ``now`` the caller
takes from its clock; the relay adds their sentences to the acknowledgement, the web chat shows the status.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import texts
from bot.departments import Department
from bot.speech import Voice

#: The due job that reminds staff in the thread when most of the time to answer has passed.
ANSWER_REMINDER = "answer_reminder"
#: The due job that marks the case overdue and escalates when the answer is late.
ANSWER_BREACH = "answer_breach"
#: The share of the business time to the due answer after which staff are reminded.
REMINDER_SHARE = 0.8

#: Within this span an opening is told as a weekday and time (``Monday 9:00``); beyond it, with its date.
WEEK = timedelta(days=6)


def target_for(department: Department, *, answered_before: bool) -> timedelta | None:
    """The business time the next answer may take: ``next_response`` once staff answered (else the first's)."""
    if answered_before:
        return department.next_response or department.first_response
    return department.first_response


def reminder_and_due(
    department: Department, now: datetime, target: timedelta
) -> tuple[datetime | None, datetime] | None:
    """(reminder, due) for an answer due ``target`` business time after ``now``; None when past the horizon.

    The reminder falls when ``REMINDER_SHARE`` of the business time has passed (None if not before the due time).
    """
    due = department.hours.add(now, target)
    if due is None:
        return None
    reminder = department.hours.add(now, target * REMINDER_SHARE)
    return (reminder if reminder is not None and reminder < due else None), due


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
