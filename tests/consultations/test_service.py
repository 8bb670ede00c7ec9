"""The consultations service over each storage backend: publishing, closing, results, and who receives what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.consultations.model import BroadcastKind, ConsultationError, FollowKey
from bot.consultations.service import ConsultationService
from bot.departments import Directory, Topic
from bot.events import Sender
from bot.model import TELEGRAM, Address, DepartmentKey, Side
from bot.privacy import audit_entries
from bot.storage.store import Store, Tx
from tests.bridge import DIRECTORY, Bridge, build_bridge
from tests.bulk.helpers import all_deliveries
from tests.consultations.helpers import service, subscribe
from tests.fakes import FakeClock
from tests.waiting import eventually

ROADS_FAN = Address(TELEGRAM, "111")
WASTE_FAN = Address(TELEGRAM, "222")


async def test_announcement_reaches_only_subscribers(bridge: Bridge) -> None:
    """An announcement goes to the department's subscribers and to no one else."""
    await subscribe(bridge.store, ROADS_FAN, "roads")
    await subscribe(bridge.store, WASTE_FAN, "waste")
    await bridge.telegram.receive(user=333, text="There is a pothole")  # wrote in, never opted in
    await bridge.settle()
    before = len(bridge.telegram.sent)
    await service(bridge).create_announcement(department="roads", text="Mill Lane is closed on Monday.", actor="cli")
    await bridge.settle()
    broadcast = bridge.telegram.sent[before:]
    assert [out.target for out in broadcast] == [ROADS_FAN]
    assert "Mill Lane is closed on Monday." in broadcast[0].body.text


async def test_every_broadcast_ends_with_how_to_stop(bridge: Bridge) -> None:
    """The last line of a broadcast names what the citizen follows and the stop command."""
    await subscribe(bridge.store, ROADS_FAN, "roads")
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await bridge.settle()
    last_line = bridge.telegram.sent[-1].body.text.splitlines()[-1]
    assert last_line == "You receive this because you follow Roads & Transport. To stop, write /stop."


async def test_broadcast_is_queued_in_a_bulk_lane_without_a_case(bridge: Bridge) -> None:
    """A broadcast's delivery is bulk, has no case and its own lane, so the chat's case lane is never behind it."""
    await subscribe(bridge.store, ROADS_FAN, "roads")
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    rows = [(d.case_id, d.lane, d.side.value, d.bulk) for d in await all_deliveries(bridge.store)]
    assert rows == [(None, "bulk:telegram:111", Side.CITIZEN.value, True)]


async def test_consultation_offers_one_button_per_option(bridge: Bridge) -> None:
    """A single-choice consultation lists its options numbered, each with a button."""
    await subscribe(bridge.store, ROADS_FAN, "roads")
    created = await service(bridge).create_consultation(
        department="roads", question="Which street first?", options=["Mill Lane", "High Street"], actor="cli"
    )
    await bridge.settle()
    body = bridge.telegram.sent[-1].body
    assert [o.key for o in body.options] == [f"poll:{created.id}:1", f"poll:{created.id}:2"]
    assert "1. Mill Lane\n2. High Street" in body.text


async def test_consultation_needs_options_or_free_text(bridge: Bridge) -> None:
    """A consultation with neither two options nor free text is refused before anything is sent."""
    with pytest.raises(ConsultationError, match="options"):
        await service(bridge).create_consultation(department="roads", question="Why?", options=["One"], actor="cli")


async def test_unknown_department_is_refused(bridge: Bridge) -> None:
    """Publishing for a department the routing file does not have names the known ones."""
    with pytest.raises(ConsultationError, match="known: roads"):
        await service(bridge).create_announcement(department="parks", text="Hi", actor="cli")


async def test_results_count_per_option_without_names(bridge: Bridge) -> None:
    """Results count answers per option and name no one unless the consultation shows who answered."""
    await subscribe(bridge.store, ROADS_FAN, "roads")
    await subscribe(bridge.store, WASTE_FAN, "roads")
    created = await service(bridge).create_consultation(
        department="roads", question="Which?", options=["A", "B"], actor="cli"
    )

    async def answer(tx: Tx) -> None:
        await tx.save_answer(created.id, ROADS_FAN, citizen_id=None, option=2)
        await tx.save_answer(created.id, WASTE_FAN, citizen_id=None, option=2)

    await bridge.store.atomic(answer)
    results = await service(bridge).results(created.id)
    assert [(c.label, c.count) for c in results.counts] == [("A", 0), ("B", 2)]
    assert results.voters == ()


async def test_closing_is_audited_and_stops_the_consultation(bridge: Bridge, clock: FakeClock) -> None:
    """Closing a consultation marks it closed and leaves an audit entry naming who closed it, not its text."""
    created = await service(bridge).create_consultation(
        department="roads", question="Secret question?", free_text=True, actor="cli"
    )
    closed = await service(bridge).close(created.id, actor="alice")
    assert not closed.is_open(clock.now)

    async def entries(tx: Tx) -> list[tuple[str, str, str]]:
        return [(e.actor, e.action, str(e.details)) for e in await audit_entries(tx)]

    trail = await bridge.store.read(entries)
    assert [(actor, action) for actor, action, _ in trail] == [("cli", "consult_create"), ("alice", "consult_close")]
    assert all("Secret" not in details for _, _, details in trail)


async def test_closing_time_ends_the_consultation(bridge: Bridge, clock: FakeClock) -> None:
    """A consultation with a closing time is open before it and closed after it."""
    created = await service(bridge).create_consultation(
        department="roads", question="Q?", free_text=True, closes_at=clock.now + timedelta(days=1), actor="cli"
    )
    assert created.is_open(clock.now)
    assert not created.is_open(clock.now + timedelta(days=1))


async def test_listing_is_newest_first(bridge: Bridge) -> None:
    """``list`` shows announcements and consultations, newest first."""
    await service(bridge).create_announcement(department="roads", text="First", actor="cli")
    await service(bridge).create_consultation(department="waste", question="Q?", free_text=True, actor="cli")
    kinds = [c.kind for c in await service(bridge).list()]
    assert kinds == [BroadcastKind.CONSULTATION, BroadcastKind.ANNOUNCEMENT]


async def test_large_audience_is_queued_in_chunks_once_each(bridge: Bridge) -> None:
    """2,500 subscribers queued 1,000 per transaction each get one delivery, and the consultation counts them."""

    async def many(tx: Tx) -> None:
        for user in range(2500):
            chat = Address(TELEGRAM, f"9{user}")
            citizen = await tx.citizen(Sender(TELEGRAM, chat.chat, "C", "en"))
            await tx.subscribe(chat, citizen_id=citizen.id, key=FollowKey("roads"), language="en", consent_text="Y")

    await bridge.store.atomic(many)
    chunked = ConsultationService(store=bridge.store, directory=bridge.relay.directory, chunk=1000)
    created = await chunked.create_consultation(department="roads", question="Q?", options=["A", "B"], actor="cli")
    assert created.recipients == 2500
    stats = await bridge.store.outbox_stats()
    assert stats.depth == 2500 + 1  # and the results message in the department's channel


async def test_topic_broadcast_reaches_topic_and_department_followers(store: Store, clock: FakeClock) -> None:
    """A broadcast on a topic reaches the topic's followers and the whole department's, each once."""
    directory = Directory(
        departments=DIRECTORY.departments,
        fallback=DIRECTORY.fallback,
        topics=(Topic("roadworks", "Road works", DepartmentKey("roads")),),
    )
    async with build_bridge(store, clock, directory=directory) as bridge:
        await subscribe(store, ROADS_FAN, "roadworks")
        await subscribe(store, WASTE_FAN, "roads")
        await subscribe(store, WASTE_FAN, "roadworks")
        await subscribe(store, Address(TELEGRAM, "333"), "waste")
        sent = await service(bridge).create_announcement(
            department="roads", text="Works.", actor="cli", topic="roadworks"
        )
        assert sent.recipients == 2
        await bridge.settle()
        assert bridge.telegram.sent[0].body.text.endswith("because you follow Road works. To stop, write /stop.")


async def test_running_worker_sends_what_another_process_queued(bridge: Bridge) -> None:
    """A broadcast queued without ringing the worker (as the CLI does, from its own process) is sent by its poll."""
    await subscribe(bridge.store, ROADS_FAN, "roads")
    from_cli = ConsultationService(store=bridge.store, directory=bridge.relay.directory)  # rings no worker
    async with bridge.worker:
        await from_cli.create_announcement(department="roads", text="Road works.", actor="cli")
        await eventually(lambda: bool(bridge.telegram.sent), what="the announcement")
    assert "Road works." in bridge.telegram.sent[-1].body.text
