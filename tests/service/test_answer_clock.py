"""The answer clock through the real relay: reminder at 80%, breach once, pause while waiting, next_response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.departments import Department, Directory, Escalation
from bot.events import StaffActionKind
from bot.model import SLACK, Address, Case, DepartmentKey, PostKind
from bot.office_hours import OfficeHours, parse_week, public_holidays
from bot.relay import Relay
from bot.storage.store import Store
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock, KeywordRouter

MADRID = ZoneInfo("Europe/Madrid")
HOURS = OfficeHours(zone=MADRID, week=parse_week({"mon-fri": "09:00-17:00"}), calendar=public_holidays("ES", "MD"))
ROADS = Department(
    DepartmentKey("roads"),
    "Roads & Transport",
    Address(SLACK, "C0ROADS"),
    hours=HOURS,
    first_response=timedelta(hours=8),
    next_response=timedelta(hours=2),
    escalation=Escalation(channel=Address(SLACK, "C0ESCALATE"), mention="S0ROADLEADS"),
)
WASTE = Department(
    DepartmentKey("waste"),
    "Waste",
    Address(SLACK, "C0WASTE"),
    hours=HOURS,
    first_response=timedelta(hours=8),
    escalation=Escalation(mention="S0WASTELEADS"),
)
GENERAL = Department(DepartmentKey("general"), "Citizen Services", Address(SLACK, "C0GENERAL"))
DIRECTORY = Directory(departments=(ROADS, WASTE, GENERAL), fallback=DepartmentKey("general"))
KEYWORDS = {"pothole": "roads", "bin": "waste"}


def madrid(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in January 2026, Madrid time, as UTC (5 Jan is a Monday, 6 Jan a public holiday)."""
    return datetime(2026, 1, day, hour, minute, tzinfo=MADRID).astimezone(UTC)


def _relay(store: Store) -> Relay:
    return Relay(store=store, directory=DIRECTORY, router=KeywordRouter(KEYWORDS, "general"))


@pytest.fixture
async def bridge(store: Store, clock: FakeClock) -> AsyncIterator[Bridge]:
    """Roads promises 8h then 2h (Mon-Fri 9-17 in Madrid) and escalates to a channel; waste mentions a group."""
    async with build_bridge(store, clock, directory=DIRECTORY, router=KeywordRouter(KEYWORDS, "general")) as built:
        yield built


async def _open(bridge: Bridge, clock: FakeClock, at: datetime, *, user: int = 1, text: str = "pothole") -> Case:
    clock.now = at
    await bridge.telegram.receive(user=user, text=f"There is a {text} here")
    await bridge.settle()
    case = await bridge.store.read(lambda tx: tx.active_case(bridge.telegram.chat(user)))
    assert case is not None
    return case


async def _case(bridge: Bridge, reference: str) -> Case:
    case = await bridge.store.read(lambda tx: tx.case_by_reference(reference))
    assert case is not None
    return case


async def _run_at(bridge: Bridge, clock: FakeClock, at: datetime) -> int:
    clock.now = at
    done = await bridge.relay.run_due_jobs()
    await bridge.settle()
    return done


def _lines(bridge: Bridge, reference: str) -> list[str]:
    return [p.text for p in bridge.slack.thread_of(reference).posts if p.kind is PostKind.SYSTEM]


async def test_reminder_comes_when_80_percent_of_business_time_has_passed(bridge: Bridge, clock: FakeClock) -> None:
    """8h from Thursday 09:00 is due 17:00; 80% (6h24m) falls at 15:24, not a minute earlier."""
    case = await _open(bridge, clock, madrid(8, 9))
    assert await _run_at(bridge, clock, madrid(8, 15, 23)) == 0
    assert await _run_at(bridge, clock, madrid(8, 15, 24)) == 1
    [line] = _lines(bridge, case.reference)
    assert line.startswith(
        "Reminder: most of the time to answer has passed. The answer is due by Thu 08 Jan 2026 17:00"
    )


async def test_reminder_counts_business_time_over_the_weekend(bridge: Bridge, clock: FakeClock) -> None:
    """Opened Friday 15:00: 2h on Friday, then Monday; 80% of 8h (6h24m) falls on Monday at 13:24."""
    case = await _open(bridge, clock, madrid(9, 15))
    assert await _run_at(bridge, clock, madrid(12, 13, 23)) == 0
    assert await _run_at(bridge, clock, madrid(12, 13, 24)) == 1
    assert len(_lines(bridge, case.reference)) == 1


async def test_breach_flags_the_case_overdue_and_posts_in_the_escalation_channel(
    bridge: Bridge, clock: FakeClock
) -> None:
    """At the due time the case is overdue, its thread says so, and the escalation channel gets one post."""
    case = await _open(bridge, clock, madrid(8, 9))
    await _run_at(bridge, clock, madrid(8, 17))
    assert (await _case(bridge, case.reference)).overdue
    assert _lines(bridge, case.reference)[-1].startswith("Overdue: the answer was due by Thu 08 Jan 2026 17:00")
    [(channel, post)] = bridge.slack.escalations
    assert (channel, post.kind, post.card.reference) == ("C0ESCALATE", PostKind.ESCALATION, case.reference)
    assert bridge.slack.updates[-1].card.overdue


async def test_a_mention_without_a_channel_escalates_in_the_cases_thread(bridge: Bridge, clock: FakeClock) -> None:
    """A department whose escalation names only a group gets the escalation post in the case's own thread."""
    case = await _open(bridge, clock, madrid(8, 9), text="bin")
    await _run_at(bridge, clock, madrid(8, 17))
    [post] = [p for p in bridge.slack.thread_of(case.reference).posts if p.kind is PostKind.ESCALATION]
    assert "was due by" in post.text
    assert bridge.slack.escalations == []


async def test_breach_fires_once_however_often_the_timers_run(bridge: Bridge, clock: FakeClock) -> None:
    """Running the timers again after the breach posts nothing more."""
    await _open(bridge, clock, madrid(8, 9))
    await _run_at(bridge, clock, madrid(8, 17))
    assert await _run_at(bridge, clock, madrid(9, 17)) == 0
    assert len(bridge.slack.escalations) == 1


async def test_a_staff_answer_stops_the_clock(bridge: Bridge, clock: FakeClock) -> None:
    """Answered before the reminder: no answer is due, and neither reminder nor breach ever comes."""
    case = await _open(bridge, clock, madrid(8, 9))
    clock.now = madrid(8, 10)
    await bridge.slack.reply(bridge.slack.thread_of(case.reference), "We are on it.")
    await bridge.settle()
    assert (await _case(bridge, case.reference)).answer_due_at is None
    assert await _run_at(bridge, clock, madrid(9, 17)) == 0
    assert _lines(bridge, case.reference) == []
    assert bridge.slack.escalations == []


async def test_the_first_due_time_is_kept_after_the_answer(bridge: Bridge, clock: FakeClock) -> None:
    """Answering clears ``answer_due_at`` but keeps ``first_answer_due_at``, which the reports compare with."""
    case = await _open(bridge, clock, madrid(8, 9))
    clock.now = madrid(8, 10)
    await bridge.slack.reply(bridge.slack.thread_of(case.reference), "We are on it.")
    clock.now = madrid(8, 11)
    await bridge.telegram.receive(user=1, text="Thanks, and the other one?")
    await bridge.settle()
    stored = await _case(bridge, case.reference)
    assert (stored.first_answer_due_at, stored.answer_due_at) == (madrid(8, 17), madrid(8, 13))


async def test_answering_clears_the_overdue_flag(bridge: Bridge, clock: FakeClock) -> None:
    """A late answer still answers: the case is no longer overdue."""
    case = await _open(bridge, clock, madrid(8, 9))
    await _run_at(bridge, clock, madrid(8, 17))
    await bridge.slack.reply(bridge.slack.thread_of(case.reference), "Sorry for the wait.")
    await bridge.settle()
    assert not (await _case(bridge, case.reference)).overdue


async def test_the_clock_pauses_while_the_case_waits_for_the_citizen(bridge: Bridge, clock: FakeClock) -> None:
    """Staff asked a question on Thursday; the citizen answers the next Monday at 10:00: due 12:00 (next_response)."""
    case = await _open(bridge, clock, madrid(8, 9))
    clock.now = madrid(8, 10)
    await bridge.slack.reply(bridge.slack.thread_of(case.reference), "Which street exactly?")
    await bridge.settle()
    assert await _run_at(bridge, clock, madrid(12, 9, 59)) == 0
    clock.now = madrid(12, 10)
    await bridge.telegram.receive(user=1, text="Calle Mayor")
    await bridge.settle()
    assert (await _case(bridge, case.reference)).answer_due_at == madrid(12, 12)


async def test_next_response_counts_business_time_over_a_holiday(bridge: Bridge, clock: FakeClock) -> None:
    """The citizen writes again Monday 5 Jan at 16:00: one hour that day, 6 Jan is a holiday, due Wednesday 10:00."""
    case = await _open(bridge, clock, madrid(5, 9))
    clock.now = madrid(5, 11)
    await bridge.slack.reply(bridge.slack.thread_of(case.reference), "Can you send a photo?")
    await bridge.settle()
    clock.now = madrid(5, 16)
    await bridge.telegram.receive(user=1, text="Here it is")
    await bridge.settle()
    assert (await _case(bridge, case.reference)).answer_due_at == madrid(7, 10)
    assert bridge.slack.updates[-1].card.answer_due_at == madrid(7, 10)


async def test_next_response_has_its_own_reminder_and_breach(bridge: Bridge, clock: FakeClock) -> None:
    """After a reply, the citizen's next message starts a 2h clock: reminder at 1h36m, breach at 2h."""
    case = await _open(bridge, clock, madrid(8, 9))
    clock.now = madrid(8, 9, 30)
    await bridge.slack.reply(bridge.slack.thread_of(case.reference), "Which street?")
    clock.now = madrid(8, 10)
    await bridge.telegram.receive(user=1, text="Calle Mayor")
    await bridge.settle()
    assert await _run_at(bridge, clock, madrid(8, 11, 36)) == 1
    assert await _run_at(bridge, clock, madrid(8, 12)) == 1
    assert len(bridge.slack.escalations) == 1


async def test_more_citizen_messages_do_not_move_the_due_time(bridge: Bridge, clock: FakeClock) -> None:
    """A citizen writing again before any answer keeps the first promise: the clock runs from their first message."""
    case = await _open(bridge, clock, madrid(8, 9))
    clock.now = madrid(8, 12)
    await bridge.telegram.receive(user=1, text="Any news?")
    await bridge.settle()
    assert (await _case(bridge, case.reference)).answer_due_at == madrid(8, 17)


async def test_closing_the_case_cancels_its_timers(bridge: Bridge, clock: FakeClock) -> None:
    """A case closed before its due time is never reminded about nor escalated."""
    case = await _open(bridge, clock, madrid(8, 9))
    await bridge.slack.act(bridge.slack.thread_of(case.reference), StaffActionKind.CLOSE)
    await bridge.settle()
    assert await _run_at(bridge, clock, madrid(9, 17)) == 0
    assert bridge.slack.escalations == []


async def test_timers_survive_a_restart(bridge: Bridge, clock: FakeClock) -> None:
    """A relay started later (a new process) finds the timers in the database and escalates."""
    case = await _open(bridge, clock, madrid(8, 9))
    clock.now = madrid(8, 17)
    assert await _relay(bridge.store).run_due_jobs() == 2
    assert (await _case(bridge, case.reference)).overdue


async def test_reminder_and_due_time_keep_the_wall_clock_across_daylight_saving(
    bridge: Bridge, clock: FakeClock
) -> None:
    """Opened Friday 27 March 15:00 (CET): due Monday 15:00 CEST, reminder 13:24 CEST, both after the change."""
    case = await _open(bridge, clock, datetime(2026, 3, 27, 15, tzinfo=MADRID).astimezone(UTC))
    assert case.answer_due_at == datetime(2026, 3, 30, 13, tzinfo=UTC)
    assert await _run_at(bridge, clock, datetime(2026, 3, 30, 11, 23, tzinfo=UTC)) == 0
    assert await _run_at(bridge, clock, datetime(2026, 3, 30, 11, 24, tzinfo=UTC)) == 1
