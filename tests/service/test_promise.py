"""The acknowledgement's promise through the real relay: when a closed office opens, when to expect an answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.departments import Department, Directory
from bot.i18n import Catalogs
from bot.model import SLACK, Address, DepartmentKey, PostKind, ReplyKind, ThreadPost
from bot.office_hours import OfficeHours, parse_week, public_holidays
from bot.speech import Languages
from bot.storage.store import Store
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock, KeywordRouter

MADRID = ZoneInfo("Europe/Madrid")
HOURS = OfficeHours(zone=MADRID, week=parse_week({"mon-fri": "09:00-17:00"}), calendar=public_holidays("ES", "MD"))
DIRECTORY = Directory(
    departments=(
        Department(
            DepartmentKey("roads"),
            "Roads & Transport",
            Address(SLACK, "C0ROADS"),
            names=(("es", "Carreteras y Transporte"),),
            hours=HOURS,
            first_response=timedelta(hours=8),
        ),
        Department(DepartmentKey("general"), "Citizen Services", Address(SLACK, "C0GENERAL")),
    ),
    fallback=DepartmentKey("general"),
)


@pytest.fixture
async def bridge(store: Store, clock: FakeClock) -> AsyncIterator[Bridge]:
    """A relay whose roads department works Mon-Fri 09:00-17:00 in Madrid and promises a first answer in 8h."""
    router = KeywordRouter({"bache": "roads", "pothole": "roads"}, "general", languages={"bache": "es"})
    languages = Languages.of(Catalogs.load(), timezone="Europe/Madrid")
    async with build_bridge(store, clock, directory=DIRECTORY, router=router, languages=languages) as built:
        yield built


async def test_spanish_citizen_on_saturday_reads_opening_and_promise_in_spanish(
    bridge: Bridge, clock: FakeClock
) -> None:
    """Written on Saturday, the Spanish acknowledgement: opens Monday 9:00, first answer by Monday 17:00."""
    clock.now = datetime(2026, 1, 10, 11, tzinfo=MADRID).astimezone(UTC)
    await bridge.telegram.receive(user=1, text="Hay un bache enorme en mi calle", language="es")
    await bridge.settle()
    [ack] = bridge.telegram.replies(1)
    assert ack.kind is ReplyKind.ACK
    assert "La oficina está cerrada ahora y vuelve a abrir el lunes, 12 de enero de 2026, 9:00" in ack.text
    assert "Puede esperar una primera respuesta a más tardar el lunes, 12 de enero de 2026, 17:00" in ack.text


async def test_open_office_promises_without_saying_it_is_closed(bridge: Bridge, clock: FakeClock) -> None:
    """Written on Thursday 15:00, 8h run 2h on Thursday and 6h on Friday: due Friday 15:00, nothing about closing."""
    clock.now = datetime(2026, 1, 8, 15, tzinfo=MADRID).astimezone(UTC)
    await bridge.telegram.receive(user=1, text="There is a pothole", language="en")
    await bridge.settle()
    [ack] = bridge.telegram.replies(1)
    assert "closed" not in ack.text
    assert "You can expect a first answer by Friday, January 9, 2026, 3:00\u202fPM" in ack.text


async def test_the_due_time_is_stored_and_shown_to_staff(bridge: Bridge, clock: FakeClock) -> None:
    """The case remembers when the first answer is due, and the Slack root card carries it."""
    clock.now = datetime(2026, 1, 8, 15, tzinfo=MADRID).astimezone(UTC)
    await bridge.telegram.receive(user=1, text="There is a pothole", language="en")
    await bridge.settle()
    due = datetime(2026, 1, 9, 15, tzinfo=MADRID)
    [ack] = bridge.telegram.replies(1)
    case = await bridge.store.atomic(lambda tx: tx.case_by_reference(ack.reference))
    assert case is not None
    assert case.answer_due_at == due
    root = next(out.body for out in bridge.slack.sent if isinstance(out.body, ThreadPost))
    assert root.kind is PostKind.ROOT
    assert root.card.answer_due_at == due


async def test_a_department_without_targets_promises_nothing(bridge: Bridge, clock: FakeClock) -> None:
    """The general department has no hours or targets: the acknowledgement is the plain one."""
    clock.now = datetime(2026, 1, 10, 11, tzinfo=MADRID).astimezone(UTC)
    await bridge.telegram.receive(user=1, text="A question about my taxes", language="en")
    await bridge.settle()
    [ack] = bridge.telegram.replies(1)
    assert ack.text == f"Thank you. Your case {ack.reference} is with Citizen Services. Staff will answer here."
