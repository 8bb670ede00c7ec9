"""Satisfaction after close through the real relay: asked once, rated once, a comment, and nothing swallowed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.departments import Department, Directory
from bot.events import StaffActionKind
from bot.i18n import Catalogs
from bot.model import SLACK, Address, CaseStatus, DepartmentKey, PostKind, ReplyKind
from bot.ratings import RATING_OPEN
from bot.speech import Languages
from bot.storage.store import Store
from bot.storage.views import StoreViews
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock, KeywordRouter

DIRECTORY = Directory(
    departments=(
        Department(DepartmentKey("roads"), "Roads & Transport", Address(SLACK, "C0ROADS"), ask_rating=True),
        Department(DepartmentKey("general"), "Citizen Services", Address(SLACK, "C0GENERAL")),
    ),
    fallback=DepartmentKey("general"),
)


@pytest.fixture
async def bridge(store: Store, clock: FakeClock) -> AsyncIterator[Bridge]:
    """Roads asks for a rating when its staff close a case; general does not."""
    router = KeywordRouter({"pothole": "roads", "bache": "roads"}, "general", languages={"bache": "es"})
    languages = Languages.of(Catalogs.load())
    async with build_bridge(store, clock, directory=DIRECTORY, router=router, languages=languages) as built:
        yield built


async def _closed_case(bridge: Bridge, *, user: int = 1, text: str = "There is a pothole", language: str = "en") -> str:
    """A case answered and closed by staff; returns its reference."""
    await bridge.telegram.receive(user=user, text=text, language=language)
    await bridge.settle()
    thread = bridge.slack.threads[-1]
    await bridge.slack.reply(thread, "Fixed it.")
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    await bridge.settle()
    return thread.reference


def _questions(bridge: Bridge, user: int = 1) -> list[str]:
    return [r.text for r in bridge.telegram.replies(user) if r.kind is ReplyKind.MENU]


async def test_closing_asks_the_citizen_to_rate_with_five_buttons(bridge: Bridge) -> None:
    """Staff close: the citizen gets one question with buttons 1 to 5 that name the case."""
    reference = await _closed_case(bridge)
    question = bridge.telegram.replies(1)[-1]
    assert question.kind is ReplyKind.MENU
    assert [o.label for o in question.options] == ["1", "2", "3", "4", "5"]
    assert question.options[4].key == f"rate:{reference}:5"
    assert "comment" in question.text


async def test_a_department_without_ask_rating_asks_nothing(bridge: Bridge) -> None:
    """General does not ask: closing its case sends no question."""
    await _closed_case(bridge, text="Something else")
    assert _questions(bridge) == []


async def test_a_button_press_records_the_score_and_tells_staff(bridge: Bridge) -> None:
    """Pressing 4 stores the rating, thanks the citizen and shows it in the case's thread."""
    reference = await _closed_case(bridge)
    await bridge.telegram.choose(user=1, choice=f"rate:{reference}:4")
    await bridge.settle()
    rating = await bridge.store.read(lambda tx: tx.case_by_reference(reference))
    assert rating is not None
    stored = await bridge.store.read(lambda tx: tx.rating_of(rating.id))
    assert stored is not None
    assert stored.score == 4
    assert "4 out of 5" in bridge.telegram.texts(1)[-1]
    lines = [p.text for p in bridge.slack.thread_of(reference).posts if p.kind is PostKind.SYSTEM]
    assert lines[-1] == "The citizen rated the answer 4 out of 5."


async def test_a_second_rating_is_ignored_politely(bridge: Bridge) -> None:
    """The first rating stands; a second press is answered kindly and changes nothing."""
    reference = await _closed_case(bridge)
    await bridge.telegram.choose(user=1, choice=f"rate:{reference}:2")
    await bridge.telegram.choose(user=1, choice=f"rate:{reference}:5")
    await bridge.settle()
    assert "already rated" in bridge.telegram.texts(1)[-1]
    [rated] = await StoreViews(store=bridge.store).ratings()
    assert rated.score == 2


async def test_a_typed_number_rates_while_the_question_is_open(bridge: Bridge) -> None:
    """Typing 5 after the question rates the case and opens no new case."""
    reference = await _closed_case(bridge)
    await bridge.telegram.receive(user=1, text="5")
    await bridge.settle()
    assert await bridge.store.read(lambda tx: tx.active_case(bridge.telegram.chat(1))) is None
    [rated] = await StoreViews(store=bridge.store).ratings()
    assert (rated.department, rated.score) == ("roads", 5)
    assert len(bridge.slack.threads) == 1
    assert reference == bridge.slack.threads[0].reference


async def test_a_typed_number_without_an_open_question_opens_a_case(bridge: Bridge, clock: FakeClock) -> None:
    """After the question lapsed (a week), "3" is a new message: it opens a case, no rating is taken."""
    await _closed_case(bridge)
    clock.advance((RATING_OPEN + timedelta(minutes=1)).total_seconds())
    await bridge.telegram.receive(user=1, text="3")
    await bridge.settle()
    case = await bridge.store.read(lambda tx: tx.active_case(bridge.telegram.chat(1)))
    assert case is not None
    assert case.status is CaseStatus.OPEN
    assert await StoreViews(store=bridge.store).ratings() == []


async def test_a_number_from_a_citizen_never_asked_opens_a_case(bridge: Bridge) -> None:
    """A citizen whose closed case was never asked (general) typing "2" starts a new case as always."""
    await _closed_case(bridge, text="Something else")
    await bridge.telegram.receive(user=1, text="2")
    await bridge.settle()
    assert await bridge.store.read(lambda tx: tx.active_case(bridge.telegram.chat(1))) is not None


async def test_the_next_message_after_rating_is_the_comment(bridge: Bridge) -> None:
    """Rated, then "Quick and friendly": stored as the comment, shown in the thread, no new case."""
    reference = await _closed_case(bridge)
    await bridge.telegram.receive(user=1, text="4")
    await bridge.telegram.receive(user=1, text="Quick and friendly")
    await bridge.settle()
    case = await bridge.store.read(lambda tx: tx.case_by_reference(reference))
    assert case is not None
    rating = await bridge.store.read(lambda tx: tx.rating_of(case.id))
    assert rating is not None
    assert rating.comment == "Quick and friendly"
    lines = [p.text for p in bridge.slack.thread_of(reference).posts if p.kind is PostKind.SYSTEM]
    assert lines[-1] == "The citizen's comment on the rating: Quick and friendly"
    assert await bridge.store.read(lambda tx: tx.active_case(bridge.telegram.chat(1))) is None


async def test_after_the_comment_a_message_opens_a_new_case(bridge: Bridge) -> None:
    """One comment only: the message after it opens a new case."""
    await _closed_case(bridge)
    await bridge.telegram.receive(user=1, text="4")
    await bridge.telegram.receive(user=1, text="Thanks")
    await bridge.telegram.receive(user=1, text="Another pothole on my street")
    await bridge.settle()
    assert len(bridge.slack.threads) == 2


async def test_a_reopened_and_closed_case_is_not_asked_again(bridge: Bridge) -> None:
    """One question per case: closing it a second time asks nothing."""
    await _closed_case(bridge)
    thread = bridge.slack.threads[0]
    await bridge.slack.act(thread, StaffActionKind.REOPEN)
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    await bridge.settle()
    assert len(_questions(bridge)) == 1


async def test_another_chats_rating_button_is_refused(bridge: Bridge) -> None:
    """A choice naming someone else's case rates nothing."""
    reference = await _closed_case(bridge)
    await bridge.telegram.choose(user=2, choice=f"rate:{reference}:1")
    await bridge.settle()
    assert await StoreViews(store=bridge.store).ratings() == []


async def test_the_question_and_thanks_are_in_the_citizens_language(bridge: Bridge) -> None:
    """A Spanish-speaking citizen is asked and thanked in Spanish."""
    await _closed_case(bridge, text="Hay un bache enorme en mi calle", language="es")
    await bridge.telegram.receive(user=1, text="5", language="es")
    await bridge.settle()
    assert "¿Qué tan satisfecho" in _questions(bridge)[-1]
    assert bridge.telegram.texts(1)[-1].startswith("Gracias por su valoración (5 de 5)")


async def test_ratings_for_reports_filter_by_date(bridge: Bridge, clock: FakeClock) -> None:
    """The read model lists (department, score, rated_at) within a date range."""
    reference = await _closed_case(bridge)
    await bridge.telegram.choose(user=1, choice=f"rate:{reference}:3")
    views = StoreViews(store=bridge.store)
    rated_at = clock.now
    [rated] = await views.ratings(since=rated_at - timedelta(days=1), until=rated_at + timedelta(days=1))
    assert (rated.department, rated.score, rated.rated_at) == ("roads", 3, rated_at)
    assert await views.ratings(since=datetime(2027, 1, 1, tzinfo=UTC)) == []


async def test_ratings_of_cases_opened_in_a_period(bridge: Bridge, clock: FakeClock) -> None:
    """The reports' query: scores of cases opened in ``[start, end)``, however late they were rated."""
    opened = clock.now
    reference = await _closed_case(bridge)
    clock.advance(timedelta(days=3).total_seconds())
    await bridge.telegram.choose(user=1, choice=f"rate:{reference}:2")

    async def read(start: datetime, end: datetime) -> list[tuple[str | None, int]]:
        found = await bridge.store.read(lambda tx: tx.ratings_of_cases_opened(start, end))
        return [(r.department, r.score) for r in found]

    assert await read(opened, opened + timedelta(days=1)) == [("roads", 2)]
    assert await read(opened + timedelta(days=1), opened + timedelta(days=5)) == []
