"""The core wired for benchmarks: the real relay, router and delivery worker between two timed fake platforms."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bench.common import make_router, routed_texts, routing_config, slack_directory
from bench.fakes import TimedPlatform
from bot.delivery import DeliveryWorker
from bot.departments import Directory
from bot.events import CitizenMessage, Sender, StaffMessage
from bot.model import SLACK, TELEGRAM, Address, CitizenReply, Outgoing, ThreadPost
from bot.ports import Channels, RouteDecision, RoutingPolicy
from bot.relay import Relay
from bot.storage.store import Store


@dataclass
class Core:
    """The relay and worker, the two fakes, and first-message texts the router routes with confidence."""

    relay: Relay
    worker: DeliveryWorker
    citizens: TimedPlatform[CitizenReply]
    departments: TimedPlatform[ThreadPost]
    directory: Directory
    first_texts: list[tuple[str, str]]
    store: Store

    def citizen_message(self, citizen: int, text: str, event_id: str) -> CitizenMessage:
        """A Telegram-like private message from citizen number ``citizen``."""
        sender = Sender(TELEGRAM, str(citizen), f"Citizen {citizen}", "en")
        chat = Address(TELEGRAM, str(citizen))
        return CitizenMessage(event_id=event_id, sender=sender, chat=chat, text=text, source_id=f"src-{event_id}")

    def first_text(self, citizen: int) -> str:
        """A first message that opens a case in one of the departments (they take turns)."""
        return self.first_texts[citizen % len(self.first_texts)][1]


def staff_message(thread: Address, text: str, event_id: str) -> StaffMessage:
    """An officer's reply in a case thread."""
    return StaffMessage(
        event_id=event_id,
        thread=thread,
        author_id="U0OFFICER",
        author_name="Grace Officer",
        text=text,
        source_id=f"staff-{event_id}",
    )


class RoutedOnce:
    """The real router, asked once per distinct ``(text, language)``: afterwards a decision costs a lookup.

    For measuring the relay's own work apart from the router's (the sentence encoder, ~3 ms a
    first message): a citizen's first message is routed as the bridge routes it, but the
    benchmark's few distinct first texts are encoded only the first time each is seen.
    """

    def __init__(self, router: RoutingPolicy) -> None:
        """Wrap ``router``."""
        self._router = router
        self._decided: dict[tuple[str, str | None], RouteDecision] = {}

    def route(self, text: str, *, language: str | None = None) -> RouteDecision:
        """The router's decision for ``text``, from memory after the first time."""
        [decision] = self.route_all([(text, language)])
        return decision

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> list[RouteDecision]:
        """The router's decisions, asking it only about questions it has not answered before."""
        missing = [question for question in dict.fromkeys(questions) if question not in self._decided]
        if missing:
            self._decided.update(zip(missing, self._router.route_all(missing), strict=True))
        return [self._decided[question] for question in questions]


@asynccontextmanager
async def running_core(
    store: Store,
    *,
    on_citizen_send: Callable[[Outgoing[CitizenReply]], None] | None = None,
    on_department_send: Callable[[Outgoing[ThreadPost]], None] | None = None,
    background: bool = True,
    routed_once: bool = False,
) -> AsyncIterator[Core]:
    """The core with the real router; the worker runs in the background unless ``background`` is False.

    ``routed_once``: the router behind ``RoutedOnce``, to measure the relay apart from routing.
    """
    config = routing_config()
    router = make_router(config)
    directory = slack_directory(config)
    citizens = TimedPlatform[CitizenReply](TELEGRAM, on_send=on_citizen_send)
    departments = TimedPlatform[ThreadPost](SLACK, on_send=on_department_send)
    channels = Channels.of(citizen=(citizens,), department=(departments,))
    worker: DeliveryWorker | None = None

    def wake() -> None:
        if worker is not None:
            worker.wake()

    relay = Relay(
        store=store, directory=directory, router=RoutedOnce(router) if routed_once else router, on_queued=wake
    )
    worker = DeliveryWorker(store=store, channels=channels, outcomes=relay, backoff=lambda _attempts: 0.5)
    core = Core(relay, worker, citizens, departments, directory, routed_texts(router, config), store)
    gc.freeze()  # as ``App`` does once it is up (the router's vectors would make each full collection pause ~60 ms)
    try:
        if not background:
            yield core
            return
        async with worker:
            yield core
    finally:
        gc.unfreeze()


async def settle(core: Core, *, timeout: float = 120.0) -> None:
    """Wait (polling with a deadline) until the outbox holds nothing pending."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await core.store.outbox_stats()).depth:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the outbox did not drain")
        core.worker.wake()
        await asyncio.sleep(0.02)
