"""Set-aside events are kept as JSON: what comes back must be the event that was kept."""

from __future__ import annotations

import pytest

from bot.event_codec import event_from_json, event_to_json
from bot.events import CitizenCommand, CitizenCommandKind, InboundEvent, Sender, StaffAction, StaffActionKind
from bot.model import Address, DepartmentKey, Platform

TELEGRAM = Platform("telegram")
SLACK = Platform("slack")
CHAT = Address(TELEGRAM, "111")
THREAD = Address(SLACK, "C0ROADS01", "1700000000.000100")


@pytest.mark.parametrize(
    "event",
    [
        CitizenCommand("e1", Sender(TELEGRAM, "111", "Ada", "es"), CHAT, CitizenCommandKind.LANGUAGE, "de"),
        StaffAction("e2", THREAD, "U1", "Grace", StaffActionKind.KEEP, reason="needed for the planning appeal"),
        StaffAction("e3", THREAD, "U1", "Grace", StaffActionKind.ANSWER, answer="bins"),
        StaffAction("e4", THREAD, "U1", "Grace", StaffActionKind.TRANSFER, DepartmentKey("waste")),
    ],
)
def test_a_set_aside_event_comes_back_whole(event: InboundEvent) -> None:
    """A command's argument and an action's reason, saved answer and department survive the JSON round trip."""
    assert event_from_json(event_to_json(event)) == event
