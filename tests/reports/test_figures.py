"""The report's figures from a seeded database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot.events import StaffActionKind
from bot.reports.model import OVERALL_KEY, UNROUTED_KEY, Period, Report
from bot.reports.queries import StoreReports
from bot.storage.store import Store, Tx
from bot.storage.tables import case_ratings, cases
from tests.bridge import Bridge
from tests.fakes import FakeClock
from tests.reports.seed import NAMES, OPENED, PERIOD, seed


async def _report(store: Store, period: Period = PERIOD) -> Report:
    await seed(store)
    return await StoreReports(store=store).report(period, NAMES)


async def test_first_response_median_and_p90_in_hours(store: Store) -> None:
    """First answers after 1, 2, 3, 4 and 10 hours give a median of 3 and a 90th percentile of 7.6 hours."""
    roads = (await _report(store)).departments[0].figures
    assert roads.first_response.count == 5
    assert roads.first_response.median == pytest.approx(3.0)
    assert roads.first_response.p90 == pytest.approx(7.6)


async def test_resolution_from_the_last_close_else_the_last_activity(store: Store) -> None:
    """Cases closed after 10, 20 (the later of two closes) and 30 hours (no audit entry) give 20 and 28 hours."""
    roads = (await _report(store)).departments[0].figures
    assert (roads.closed, roads.resolution.count) == (3, 3)
    assert roads.resolution.median == pytest.approx(20.0)
    assert roads.resolution.p90 == pytest.approx(28.0)


async def test_share_answered_within_target(store: Store) -> None:
    """Three of four roads cases were answered before their target; waste missed its one."""
    report = await _report(store)
    roads, waste = report.departments[0].figures, report.departments[1].figures
    assert (roads.with_target, roads.within_target, roads.within_target_share) == (4, 3, 0.75)
    assert (waste.with_target, waste.within_target) == (1, 0)
    assert report.overall.within_target_share == pytest.approx(0.6)


async def test_transfers_and_menu_choices(store: Store) -> None:
    """A transfer label counts as a transfer, a menu label as a menu choice, in the case's department."""
    roads = (await _report(store)).departments[0].figures
    assert (roads.transferred, roads.menu_chosen) == (1, 1)


async def test_languages_and_platforms(store: Store) -> None:
    """The citizen's chosen language beats the identified one, which beats the platform's; platforms are counted."""
    report = await _report(store)
    roads = report.departments[0].figures
    assert roads.languages == (("en", 3), ("fr", 1), ("pt", 1))
    assert roads.platforms == (("telegram", 3), ("discord", 1), ("web", 1))
    assert report.overall.languages == (("en", 4), ("fr", 1), ("pt", 1), ("?", 1))


async def test_rows_follow_the_routing_file_then_unrouted(store: Store) -> None:
    """Every named department has a row (housing with zeros), then the unrouted cases, then the overall row."""
    report = await _report(store)
    assert [r.key for r in report.rows] == ["roads", "waste", "housing", UNROUTED_KEY, OVERALL_KEY]
    assert [r.figures.opened for r in report.rows] == [5, 1, 0, 1, 7]


async def test_period_counts_office_dates(store: Store) -> None:
    """In Berlin, a case opened 23:59 UTC on 31 December is on 1 January and counts; 00:00 UTC on the 8th too."""
    period = Period(date(2026, 1, 1), date(2026, 1, 8), ZoneInfo("Europe/Berlin"))
    report = await _report(store, period)
    assert report.departments[0].figures.opened == 6
    assert period.start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)


async def test_ratings_are_counted_per_department_with_their_mean(store: Store) -> None:
    """Scores 5 and 2 on roads cases and 4 on the waste case: roads 2 ratings (mean 3.5), overall 3 (mean 11/3)."""
    await seed(store)

    async def rate(tx: Tx) -> None:
        ids = [
            row.id for row in await tx.connection.execute(select(cases.c.id, cases.c.department).order_by(cases.c.id))
        ]
        roads, waste = ids[0:2], ids[5]
        for case_id, department, score in ((roads[0], "roads", 5), (roads[1], "roads", 2), (waste, "waste", 4)):
            await tx.connection.execute(
                insert(case_ratings).values(
                    case_id=case_id, department=department, asked_at=OPENED, score=score, rated_at=OPENED
                )
            )

    await store.atomic(rate)
    report = await StoreReports(store=store).report(PERIOD, NAMES)
    roads = report.departments[0].figures.ratings
    assert roads.count == 2
    assert roads.mean == pytest.approx(3.5)
    assert report.overall.ratings.count == 3
    assert report.overall.ratings.mean == pytest.approx(11 / 3)


async def test_no_ratings_means_no_mean(store: Store) -> None:
    """A period without ratings reports a count of 0 and no mean, not a mean of 0."""
    report = await _report(store)
    assert (report.overall.ratings.count, report.overall.ratings.mean) == (0, None)


async def test_a_transfer_through_the_relay_is_counted(bridge: Bridge) -> None:
    """A case staff transfer from waste to roads counts as a transferred roads case."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.TRANSFER, "roads")
    await bridge.settle()
    today = bridge.store.now().date()
    report = await StoreReports(store=bridge.store).report(Period(today, date(today.year + 1, 1, 1)), NAMES)
    assert [(r.key, r.figures.transferred) for r in report.departments if r.figures.opened] == [("roads", 1)]


async def test_a_close_through_the_relay_gives_the_resolution_time(bridge: Bridge, clock: FakeClock) -> None:
    """A case closed by staff two hours after it opened resolves in 2 hours; their reply after 1 is its first answer."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.settle()
    clock.advance(3600)
    await bridge.slack.reply(bridge.slack.threads[0], "We are on it")
    clock.advance(3600)
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.CLOSE)
    await bridge.settle()
    report = await StoreReports(store=bridge.store).report(Period(date(2026, 1, 1), date(2026, 2, 1)), NAMES)
    assert (report.overall.first_response.median, report.overall.resolution.median) == (1.0, 2.0)
