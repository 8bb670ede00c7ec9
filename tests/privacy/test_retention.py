"""Retention: closed cases lose their personal data after the period; data not needed goes away on its own."""

from __future__ import annotations

from bot.erased_in_flight import ERASED
from bot.model import FileData
from bot.purge import PurgeCounts, Retention, purge
from bot.retention import RetentionTask
from bot.storage.store import Tx
from bot.storage.tables import deliveries, inbound_events
from tests.bridge import Bridge
from tests.fakes import FakeClock
from tests.privacy.helpers import DAY, NAME, PHRASE, blobs, cases, citizens, closed_case, messages, rows

RETENTION = Retention(days=30)


async def _purge(bridge: Bridge, *, dry_run: bool = False) -> PurgeCounts:
    async def work(tx: Tx) -> PurgeCounts:
        return await purge(tx, RETENTION, dry_run=dry_run)

    return await bridge.store.atomic(work)


async def test_purge_removes_text_names_and_ids_of_cases_closed_longer_than_retention(
    bridge: Bridge, clock: FakeClock
) -> None:
    """A case closed longer than the retention period keeps no message text, name or platform id."""
    await closed_case(bridge)
    clock.advance(31 * DAY)
    await _purge(bridge)
    texts = {row["text"] for row in await rows(bridge, messages)}
    [person] = await rows(bridge, citizens)
    [case] = await rows(bridge, cases)
    assert texts == {ERASED}
    assert (person["display_name"], person["user_id"]) == (ERASED, f"erased-{person['id']}")
    assert case["chat_id"] != "111"


async def test_purged_case_keeps_department_dates_and_message_count(bridge: Bridge, clock: FakeClock) -> None:
    """What remains of a purged case is anonymous: its department, dates and how many messages it had."""
    await closed_case(bridge)
    before = await rows(bridge, messages)
    clock.advance(31 * DAY)
    await _purge(bridge)
    [case] = await rows(bridge, cases)
    assert (case["department"], case["status"], len(await rows(bridge, messages))) == ("waste", "closed", len(before))
    assert case["erased_at"] is not None


async def test_case_closed_within_retention_is_kept(bridge: Bridge, clock: FakeClock) -> None:
    """A case closed less than the retention period ago keeps its messages."""
    await closed_case(bridge)
    clock.advance(29 * DAY)
    await _purge(bridge)
    assert any(PHRASE in row["text"] for row in await rows(bridge, messages))
    assert [row["display_name"] for row in await rows(bridge, citizens)] == [NAME]


async def test_citizen_with_a_recent_case_keeps_their_name(bridge: Bridge, clock: FakeClock) -> None:
    """A citizen whose newer case is still within retention is not de-identified when an old case is purged."""
    await closed_case(bridge)
    clock.advance(20 * DAY)
    await closed_case(bridge, text="a second matter")
    clock.advance(11 * DAY)
    await _purge(bridge)
    assert [row["display_name"] for row in await rows(bridge, citizens)] == [NAME]
    assert any("a second matter" in row["text"] for row in await rows(bridge, messages))


async def test_dry_run_counts_and_changes_nothing(bridge: Bridge, clock: FakeClock) -> None:
    """``purge --dry-run`` reports what it would remove and leaves every row as it was."""
    await closed_case(bridge)
    clock.advance(31 * DAY)
    before = await rows(bridge, messages)
    counts = await _purge(bridge, dry_run=True)
    assert (counts.cases, counts.citizens) == (1, 1)
    assert await rows(bridge, messages) == before


async def test_attachment_bytes_go_once_every_delivery_carrying_them_is_done(bridge: Bridge, clock: FakeClock) -> None:
    """The bytes of a delivered file are deleted by the next purge, though the case is still open."""
    await bridge.telegram.receive(user=111, text="here", files=[FileData("a.jpg", "image/jpeg", b"bytes")])
    await bridge.settle()
    clock.advance(2 * 3600)
    await _purge(bridge)
    assert await rows(bridge, blobs) == []


async def test_inbound_event_ids_go_after_the_redelivery_window(bridge: Bridge, clock: FakeClock) -> None:
    """Event ids older than a week are deleted; newer ones are kept to recognise redeliveries."""
    await bridge.telegram.receive(user=111, text="old bin")
    clock.advance(8 * DAY)
    await bridge.telegram.receive(user=111, text="new bin")
    await _purge(bridge)
    assert len(await rows(bridge, inbound_events)) == 1


async def test_finished_deliveries_go_after_thirty_days(bridge: Bridge, clock: FakeClock) -> None:
    """Sent deliveries (their bodies hold message text) are deleted 30 days after they were sent."""
    await bridge.telegram.receive(user=111, text="pothole on my road")
    await bridge.settle()
    clock.advance(31 * DAY)
    await _purge(bridge)
    assert await rows(bridge, deliveries) == []


async def test_daily_task_runs_once_a_day_whatever_the_number_of_processes(bridge: Bridge, clock: FakeClock) -> None:
    """Two bridge processes' retention tasks purge once per day between them."""
    first = RetentionTask(store=bridge.store, retention=RETENTION)
    second = RetentionTask(store=bridge.store, retention=RETENTION)
    ran = [await first.run_due() is not None, await second.run_due() is not None]
    clock.advance(DAY / 2)
    ran.append(await second.run_due() is not None)
    clock.advance(DAY / 2)
    ran.append(await second.run_due() is not None)
    ran.append(await first.run_due() is not None)
    assert ran == [True, False, False, True, False]


async def test_daily_task_purges_expired_cases(bridge: Bridge, clock: FakeClock) -> None:
    """The task ``run`` starts applies the retention period."""
    await closed_case(bridge)
    clock.advance(31 * DAY)
    await RetentionTask(store=bridge.store, retention=RETENTION).run_due()
    assert {row["text"] for row in await rows(bridge, messages)} == {ERASED}
