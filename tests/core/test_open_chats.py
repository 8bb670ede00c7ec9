"""A first message is routed before its transaction, so it costs one transaction, not a rolled-back one and another."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.events import StaffAction, StaffActionKind
from bot.model import SLACK, TELEGRAM, Address
from bot.relay import Limits, Relay
from bot.relay.open_chats import OpenChats
from bot.storage.store import Store, Tx
from tests.bridge import DIRECTORY, KEYWORDS
from tests.fakes import FakeCitizenPlatform, FakeDecision, KeywordRouter

T = TypeVar("T")


class CountingStore:
    """The real store, counting the transactions begun (a body that stops to ask the router begins two)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.begun = 0

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        self.begun += 1
        return await self._store.atomic(work)


class CountingRouter(KeywordRouter):
    """Routes as ``KeywordRouter`` and counts the messages it was asked about."""

    def __init__(self) -> None:
        super().__init__(KEYWORDS, "general")
        self.asked: list[str] = []

    def route(self, text: str, *, language: str | None = None) -> FakeDecision:
        self.asked.append(text)
        return super().route(text, language=language)


async def _relay(store: Store) -> tuple[Relay, CountingStore, CountingRouter, FakeCitizenPlatform]:
    counting, router = CountingStore(store), CountingRouter()
    relay = Relay(store=counting, directory=DIRECTORY, router=router, limits=Limits())
    telegram = FakeCitizenPlatform(TELEGRAM)
    await telegram.start(relay)
    return relay, counting, router, telegram


async def test_a_first_message_takes_one_transaction_and_one_routing(store: Store) -> None:
    """The router is asked before the transaction: the case opens in one go."""
    _, counting, router, telegram = await _relay(store)
    await telegram.receive(user=111, text="My bin was not collected")
    assert (counting.begun, router.asked) == (1, ["My bin was not collected"])
    [case] = await store.read(lambda tx: tx.cases_of_chat(Address(TELEGRAM, "111")))
    assert case.department == "waste"


async def test_messages_into_an_open_case_are_not_routed(store: Store) -> None:
    """Once the chat has a case, its messages go straight into it: no routing, one transaction each."""
    _, counting, router, telegram = await _relay(store)
    await telegram.receive(user=111, text="My bin was not collected")
    await telegram.receive(user=111, text="It was due on Monday, about the rent too")
    assert (counting.begun, len(router.asked)) == (2, 1)


async def test_after_a_close_the_next_message_is_routed_ahead_again(store: Store) -> None:
    """Staff close the case: the citizen's next message opens a new one, again in one transaction."""
    relay, counting, router, telegram = await _relay(store)
    await telegram.receive(user=111, text="My bin was not collected")
    [case] = await store.read(lambda tx: tx.cases_of_chat(Address(TELEGRAM, "111")))
    await store.atomic(lambda tx: tx.adopt_thread(case.id, Address(SLACK, "C0WASTE", "1.1")))
    await relay.accept(StaffAction("close-1", Address(SLACK, "C0WASTE", "1.1"), "U1", "Grace", StaffActionKind.CLOSE))
    begun = counting.begun
    await telegram.receive(user=111, text="There is a pothole on Mill Lane")
    assert counting.begun - begun == 1
    assert router.asked[-1] == "There is a pothole on Mill Lane"
    cases = await store.read(lambda tx: tx.cases_of_chat(Address(TELEGRAM, "111")))
    assert sorted(str(c.department) for c in cases) == ["roads", "waste"]


async def test_a_case_another_process_opened_still_gets_the_message(store: Store) -> None:
    """A relay that never saw the chat's case (another process opened it): the guess is wasted, nothing else."""
    *_, telegram = await _relay(store)
    await telegram.receive(user=111, text="My bin was not collected")
    _second, counting, router, other = await _relay(store)
    await other.receive(user=111, text="It was due on Monday")
    assert (counting.begun, router.asked) == (1, ["It was due on Monday"])  # routed ahead, not used
    [case] = await store.read(lambda tx: tx.cases_of_chat(Address(TELEGRAM, "111")))
    texts = [m.text for m in await store.read(lambda tx: tx.messages(case.id))]
    assert texts == ["My bin was not collected", "It was due on Monday"]


def test_open_chats_forgets_a_closed_chat_and_the_least_recently_seen() -> None:
    """The memory holds at most its limit; a chat seen without a case is forgotten at once."""
    chats = OpenChats(limit=2)
    a, b, c = (Address(TELEGRAM, name) for name in "abc")
    chats.learn({a: True, b: True})
    chats.learn({a: True})  # a seen again: b is now the least recently seen
    chats.learn({c: True})
    assert [chats.has_case(x) for x in (a, b, c)] == [True, False, True]
    chats.learn({a: False})
    assert (chats.has_case(a), len(chats)) == (False, 1)
