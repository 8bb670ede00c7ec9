"""Erasure: the citizen's words are found nowhere the bridge put them, and never come back."""

from __future__ import annotations

from bot.erased_in_flight import ERASED, LOOK_AFTER
from bot.events import CitizenCommandKind, StaffActionKind
from bot.model import SLACK, TELEGRAM, Outgoing, PostKind, Sent, ThreadPost
from bot.privacy import cases_of_citizen, erase
from bot.storage.store import Store, Tx
from tests.bridge import Bridge, build_bridge
from tests.fakes import FakeClock, FakeDepartmentPlatform
from tests.privacy.helpers import NAME, PHRASE, closed_case, messages, rows
from tests.privacy.traces import traces


async def _erase(bridge: Bridge, reference: str) -> None:
    async def work(tx: Tx) -> None:
        case = await tx.case_by_reference(reference)
        assert case is not None
        await erase(tx, [case], actor="cli:test")

    await bridge.store.atomic(work)
    await bridge.settle()


async def test_erased_phrase_is_nowhere_in_the_database(bridge: Bridge) -> None:
    """After an erasure, a unique phrase the citizen wrote is in no database file (SQLite + WAL) or dump."""
    reference = await closed_case(bridge)
    assert await traces(bridge.store, PHRASE)  # the check can see it before
    await _erase(bridge, reference)
    assert await traces(bridge.store, PHRASE) == []
    assert await traces(bridge.store, NAME) == []


async def test_erasure_replaces_the_bridges_own_thread_posts(bridge: Bridge) -> None:
    """The thread root and the citizen's posts in the department thread are replaced with "[erased]"."""
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await bridge.telegram.receive(user=111, text="and another thing")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    root_id = thread.ts
    await _erase(bridge, thread.reference)
    assert len(bridge.slack.erased) == 2
    assert root_id in bridge.slack.erased


async def test_pending_delivery_does_not_send_erased_text(bridge: Bridge) -> None:
    """A staff reply still waiting in the outbox is not sent once its case is erased."""
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    await bridge.slack.reply(thread, f"About {PHRASE}: we come on Monday")
    await _erase(bridge, thread.reference)
    assert not any(PHRASE in text for text in bridge.telegram.texts(111))


async def test_pending_thread_post_goes_out_erased(bridge: Bridge) -> None:
    """A citizen message not yet posted to the thread is posted as "[erased]", not as written."""
    await bridge.telegram.receive(user=111, text="bin: first")
    await bridge.settle()
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await _erase(bridge, bridge.slack.threads[0].reference)
    posts = [p for p in bridge.slack.threads[0].posts if p.kind is PostKind.CITIZEN]
    assert [p.text for p in posts] == [ERASED]


async def test_forget_erases_closed_cases_at_once(bridge: Bridge) -> None:
    """``forget`` erases a citizen's closed cases without waiting for staff."""
    await closed_case(bridge)
    await bridge.telegram.command(user=111, command=CitizenCommandKind.FORGET)
    await bridge.settle()
    assert {row["text"] for row in await rows(bridge, messages)} == {ERASED}
    assert "erased" in bridge.telegram.texts(111)[-1]


async def test_forget_puts_an_open_case_to_staff(bridge: Bridge) -> None:
    """``forget`` on an open case asks staff in its thread, and keeps the case until they decide."""
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await bridge.settle()
    await bridge.telegram.command(user=111, command=CitizenCommandKind.FORGET)
    await bridge.settle()
    assert "!erase" in bridge.slack.threads[0].posts[-1].text
    assert any(PHRASE in row["text"] for row in await rows(bridge, messages))


async def test_staff_erase_grants_the_request(bridge: Bridge) -> None:
    """Staff answering ``!erase`` erase the open case and the citizen is told."""
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await bridge.settle()
    await bridge.telegram.command(user=111, command=CitizenCommandKind.FORGET)
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.ERASE)
    await bridge.settle()
    assert not any(PHRASE in row["text"] for row in await rows(bridge, messages))
    assert "has been erased" in bridge.telegram.texts(111)[-1]


async def test_staff_keep_tells_the_citizen_the_reason(bridge: Bridge) -> None:
    """Staff answering ``!keep REASON`` keep the case and the citizen reads the reason."""
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await bridge.settle()
    await bridge.telegram.command(user=111, command=CitizenCommandKind.FORGET)
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.KEEP, reason="planning appeal pending")
    await bridge.settle()
    assert "planning appeal pending" in bridge.telegram.texts(111)[-1]
    assert any(PHRASE in row["text"] for row in await rows(bridge, messages))


async def test_staff_erase_without_a_request_changes_nothing(bridge: Bridge) -> None:
    """``!erase`` on a case whose citizen asked nothing only tells staff so."""
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.ERASE)
    await bridge.settle()
    assert any(PHRASE in row["text"] for row in await rows(bridge, messages))


class ErasedMidSend(FakeDepartmentPlatform):
    """A fake Slack during whose send of the phrase the case is erased (another process's CLI, say)."""

    def __init__(self, store: Store) -> None:
        super().__init__(SLACK)
        self._store = store
        self.phrase_post: str | None = None  # the message id the phrase went out as

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        if PHRASE not in out.body.text:
            return await super().send(out)

        async def work(tx: Tx) -> None:
            [case] = await cases_of_citizen(tx, TELEGRAM, "111")
            await erase(tx, [case], actor="cli:test")

        await self._store.atomic(work)  # the worker holds the post: it goes out as claimed
        sent = await super().send(out)
        self.phrase_post = sent.message_id
        return sent


async def test_a_post_under_way_when_its_case_is_erased_is_edited_once_it_is_out(
    store: Store, clock: FakeClock
) -> None:
    """A post a worker had already claimed goes out as written; a few minutes later it reads "[erased]"."""
    slack = ErasedMidSend(store)
    async with build_bridge(store, clock, department=[slack]) as bridge:
        await bridge.telegram.receive(user=111, text="My bin was not collected")
        await bridge.settle()
        await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}")
        await bridge.settle()
        assert slack.phrase_post is not None
        assert slack.phrase_post not in slack.erased  # out as written, and the erasure could not know its id
        clock.advance(LOOK_AFTER.total_seconds())
        assert await bridge.relay.run_due_jobs() == 1
        await bridge.settle()
        assert slack.phrase_post in slack.erased
        assert await bridge.relay.run_due_jobs() == 0  # once
