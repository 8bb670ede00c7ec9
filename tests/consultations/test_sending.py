"""Resumable sends over each storage backend: a send cut short is finished by the running bridge, once each."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from bot.consult_cli import format_list
from bot.consultations.service import ConsultationService
from bot.model import TELEGRAM, Address
from bot.privacy import audit_entries
from bot.storage.store import Tx
from tests.bridge import Bridge
from tests.consultations.helpers import subscribe

T = TypeVar("T")
FANS = tuple(Address(TELEGRAM, str(user)) for user in range(101, 106))


class ProcessDied(Exception):  # noqa: N818  # what the test injects, named for what it stands for
    """The publishing process stopped between two chunks."""


class DiesAfter:
    """The store as the publishing process sees it, until it dies: the ``writes``-th write transaction never runs."""

    def __init__(self, bridge: Bridge, *, writes: int) -> None:
        self._store = bridge.store
        self._left = writes

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run ``work``, unless the process is already dead."""
        self._left -= 1
        if self._left <= 0:
            raise ProcessDied
        return await self._store.atomic(work)

    async def read(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Read as the store does."""
        return await self._store.read(work)


async def subscribed(bridge: Bridge) -> None:
    """Five chats follow Roads."""
    for chat in FANS:
        await subscribe(bridge.store, chat, "roads")


def received(bridge: Bridge) -> Counter[str]:
    """How many broadcasts each chat got."""
    return Counter(out.target.chat for out in bridge.telegram.sent)


async def test_a_send_cut_short_after_its_first_chunk_is_finished_by_the_running_bridge(bridge: Bridge) -> None:
    """The publisher dies after queueing 2 of 5 chats; the bridge's timers queue the other 3, nobody twice."""
    await subscribed(bridge)
    dying = ConsultationService(store=DiesAfter(bridge, writes=3), directory=bridge.relay.directory, chunk=2)
    with pytest.raises(ProcessDied):  # 1: created, 2: the first chunk, 3: never happens
        await dying.create_announcement(department="roads", text="Mill Lane is closed.", actor="cli")
    [cut] = await ConsultationService(store=bridge.store, directory=bridge.relay.directory).list()
    assert (cut.sending, cut.recipients) == (True, 2)
    assert await bridge.relay.run_due_jobs() >= 1
    await bridge.settle()
    assert received(bridge) == Counter({chat.chat: 1 for chat in FANS})
    [done] = await ConsultationService(store=bridge.store, directory=bridge.relay.directory).list()
    assert (done.sending, done.recipients) == (False, 5)


async def test_a_consultation_cut_short_is_finished_and_gets_its_results_message(bridge: Bridge) -> None:
    """A consultation the publisher left half-queued is finished, audited once, and its results message queued."""
    await subscribed(bridge)
    dying = ConsultationService(store=DiesAfter(bridge, writes=3), directory=bridge.relay.directory, chunk=2)
    with pytest.raises(ProcessDied):
        await dying.create_consultation(department="roads", question="Q?", options=["A", "B"], actor="cli")
    await bridge.relay.run_due_jobs()
    await bridge.settle()
    assert received(bridge) == Counter({chat.chat: 1 for chat in FANS})
    assert [post.body.kind.value for post in bridge.slack.sent] == ["results"]
    entries = await bridge.store.read(audit_entries)
    assert [e.details["recipients"] for e in entries if e.action == "consult_create"] == [5]


async def test_a_finished_send_left_to_the_timers_sends_nothing_again(bridge: Bridge) -> None:
    """The job a finished send left behind finds nothing to do: no chat gets the broadcast twice."""
    await subscribed(bridge)
    chunked = ConsultationService(store=bridge.store, directory=bridge.relay.directory, chunk=2)
    sent = await chunked.create_announcement(department="roads", text="Road works.", actor="cli")
    assert (sent.sending, sent.recipients) == (False, 5)
    await bridge.relay.run_due_jobs()
    await bridge.settle()
    assert received(bridge) == Counter({chat.chat: 1 for chat in FANS})


async def test_two_processes_continuing_one_send_queue_each_chat_once(bridge: Bridge) -> None:
    """Two processes continuing one send at the same time take turns on it, and each chat is queued once."""
    await subscribed(bridge)
    first = ConsultationService(store=bridge.store, directory=bridge.relay.directory, chunk=2)
    second = ConsultationService(store=bridge.store, directory=bridge.relay.directory, chunk=1)
    created = await first.create_announcement(department="roads", text="Works.", actor="cli", background=True)
    await asyncio.gather(first.finish_send(created.id), second.finish_send(created.id))
    await bridge.settle()
    assert received(bridge) == Counter({chat.chat: 1 for chat in FANS})
    [done] = await first.list()
    assert (done.sending, done.recipients) == (False, 5)


async def test_list_shows_a_send_still_being_queued(bridge: Bridge) -> None:
    """``consult list`` says "sending" for a send not yet queued for every chat, and how many it reached."""
    await subscribed(bridge)
    dying = ConsultationService(store=DiesAfter(bridge, writes=3), directory=bridge.relay.directory, chunk=2)
    with pytest.raises(ProcessDied):
        await dying.create_announcement(department="roads", text="Works.", actor="cli")
    listed = await ConsultationService(store=bridge.store, directory=bridge.relay.directory).list()
    line = format_list(listed, bridge.clock()).splitlines()[-1]
    assert "sending" in line
    assert " 2 " in line
