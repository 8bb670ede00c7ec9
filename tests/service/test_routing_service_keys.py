"""The routing file's office hours and answer-time targets: loaded when right, FILE:LINE problems when wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.live_routing import directory_from
from bot.model import SLACK, Address
from config.routing_file import RoutingFileError, load_routing_text

GOOD = """\
timezone: Europe/Berlin
fallback: general
departments:
  - key: roads
    name: Roads
    slack_channel: C0ROADS01
    keywords: [pothole]
    first_response: 8h
    next_response: 2h30m
    office_hours:
      hours: {mon-fri: "09:00-17:00", sat: "09:00-12:00"}
      holidays: {country: DE, subdivision: BE}
      closed: [2026-12-24]
  - key: general
    name: General
    desk: web
"""


def test_office_hours_load_in_the_files_time_zone() -> None:
    """A department's hours default to the file's time zone and honour its holidays and closures."""
    config = load_routing_text(GOOD, "routing.yaml")
    hours = config.office_hours("roads")
    assert hours.zone == ZoneInfo("Europe/Berlin")
    assert not hours.is_open(datetime(2026, 12, 24, 10, tzinfo=ZoneInfo("Europe/Berlin")))
    assert not hours.is_open(datetime(2026, 12, 25, 10, tzinfo=ZoneInfo("Europe/Berlin")))
    assert hours.is_open(datetime(2026, 12, 28, 10, tzinfo=ZoneInfo("Europe/Berlin")))


def test_a_department_without_hours_is_always_open() -> None:
    """No ``office_hours``: open round the clock."""
    config = load_routing_text(GOOD, "routing.yaml")
    assert config.office_hours("general").is_open(datetime(2026, 1, 4, 3, tzinfo=UTC))


@pytest.mark.parametrize(
    ("old", "new", "line", "fault"),
    [
        ("first_response: 8h", "first_response: 8 hours", 8, "is not a duration"),
        ("      closed:", "      closd:", 13, "unknown key 'closd': did you mean 'closed'?"),
        ("subdivision: BE", "subdivision: XX", 12, "subdivision 'XX' is not known for DE"),
        ('sat: "09:00-12:00"', 'sat: "9 to 12"', 11, "is not opening hours"),
        ("holidays: {", "timezone: Europe/Nowhere\n      holidays: {", 12, "not an IANA time zone"),
    ],
)
def test_wrong_service_keys_are_reported_at_their_line(old: str, new: str, line: int, fault: str) -> None:
    """Each mistake in the new keys is one ``FILE:LINE: message`` at the line to fix."""
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(GOOD.replace(old, new), "routing.yaml")
    assert [(p.line, fault in p.message) for p in caught.value.problems] == [(line, True)]


ESCALATING = GOOD.replace(
    "    next_response: 2h30m\n",
    "    next_response: 2h30m\n"
    "    ask_rating: true\n"
    "    escalation: {slack_channel: C0LEADS01, mention: S0ROADLEADS}\n",
)


def test_escalation_and_ask_rating_load_into_the_departments() -> None:
    """``escalation`` names a channel and a group to mention; ``ask_rating`` turns the question on."""
    roads = directory_from(load_routing_text(ESCALATING, "routing.yaml"))["roads"]
    assert roads.escalation is not None
    assert (roads.escalation.channel, roads.escalation.mention) == (Address(SLACK, "C0LEADS01"), "S0ROADLEADS")
    assert roads.ask_rating


@pytest.mark.parametrize(
    ("old", "new", "line", "fault"),
    [
        ("mention: S0ROADLEADS", "mention: roadleads", 11, "a Slack user group id looks like S0123ABCD"),
        ("slack_channel: C0LEADS01,", "channel: C0LEADS01,", 11, "unknown key 'channel': did you mean"),
        ("ask_rating: true", "ask_rating: sometimes", 10, "write true or false"),
        ("{slack_channel: C0LEADS01, mention: S0ROADLEADS}", "{}", 11, "escalation: needs 'slack_channel"),
        ("    first_response: 8h\n    next_response: 2h30m\n", "", 4, "escalation needs an answer-time target"),
    ],
)
def test_wrong_escalation_keys_are_reported_at_their_line(old: str, new: str, line: int, fault: str) -> None:
    """Each mistake in ``escalation`` or ``ask_rating`` is one ``FILE:LINE: message``."""
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(ESCALATING.replace(old, new), "routing.yaml")
    assert [(p.line, fault in p.message) for p in caught.value.problems] == [(line, True)], caught.value.problems


def test_a_mention_only_escalation_needs_a_slack_department() -> None:
    """A desk department cannot mention a group in a Slack thread it does not have."""
    text = GOOD.replace(
        "    desk: web\n", "    desk: web\n    first_response: 4h\n    escalation: {mention: S0GENERAL}\n"
    )
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(text, "routing.yaml")
    [problem] = caught.value.problems
    assert "add 'slack_channel: <channel id>' to its escalation" in problem.message
