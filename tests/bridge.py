"""The relay and delivery worker wired to fake platforms, as the unit tests drive them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from bot.delivery import DeliveryWorker, Preparation
from bot.departments import Department, Directory
from bot.model import DESK, SLACK, TELEGRAM, Address, DepartmentKey, Platform
from bot.ports import Channel, Channels, CitizenChannel, DepartmentChannel, RoutingPolicy, thread_owner_in
from bot.relay import Limits, Relay
from bot.retry import Delay
from bot.saved_answers import SavedAnswers
from bot.speech import Languages
from bot.storage.store import Clock, Store
from tests.fakes import FakeCitizenPlatform, FakeDepartmentPlatform, KeywordRouter

DIRECTORY = Directory(
    departments=(
        Department(DepartmentKey("roads"), "Roads & Transport", Address(SLACK, "C0ROADS")),
        Department(DepartmentKey("waste"), "Waste & Recycling", Address(SLACK, "C0WASTE")),
        Department(DepartmentKey("housing"), "Housing", Address(SLACK, "C0HOUSING"), sign_with_officer_name=True),
        Department(DepartmentKey("general"), "Citizen Services", Address(SLACK, "C0GENERAL")),
    ),
    fallback=DepartmentKey("general"),
)
KEYWORDS = {"pothole": "roads", "road": "roads", "bin": "waste", "rent": "housing"}


@dataclass
class Bridge:
    """Everything a relay test touches."""

    store: Store
    relay: Relay
    worker: DeliveryWorker
    telegram: FakeCitizenPlatform
    slack: FakeDepartmentPlatform
    clock: Clock
    channels: Channels

    @property
    def adapters(self) -> dict[Platform, Channel]:
        """Every channel, keyed by platform."""
        return self.channels.by_platform()

    async def settle(self, *, rounds: int = 50) -> None:
        """Run the delivery worker until nothing is due now."""
        for _ in range(rounds):
            if not await self.worker.drain_once():
                return
        raise AssertionError("the outbox did not settle")


@asynccontextmanager
async def build_bridge(
    store: Store,
    clock: Clock,
    *,
    citizen: Sequence[CitizenChannel] = (),
    department: Sequence[DepartmentChannel] = (),
    directory: Directory = DIRECTORY,
    max_message_chars: int = 8000,
    backoff: Delay = lambda _attempts: 0.0,
    router: RoutingPolicy | None = None,
    languages: Languages | None = None,
    preparation: Preparation | None = None,
    menu_timeout: timedelta = timedelta(minutes=10),
    answers: SavedAnswers | None = None,
) -> AsyncIterator[Bridge]:
    """Wire the real relay and worker to fake Telegram and Slack, or to the real channels given.

    A real channel replaces the fake of its platform. Retries are due at once unless
    ``backoff`` says otherwise; the worker runs only when the test calls ``settle``
    or enters ``bridge.worker`` (``async with``) for a background worker.
    """
    telegram = FakeCitizenPlatform(TELEGRAM)
    slack = FakeDepartmentPlatform(SLACK)
    channels = Channels.of(citizen=(telegram, *citizen), department=(slack, *department))
    relay = Relay(
        store=store,
        directory=directory,
        router=router or KeywordRouter(KEYWORDS, "general"),
        limits=Limits(max_message_chars=max_message_chars),
        languages=languages,
        menu_timeout=menu_timeout,
        answers=answers,
        on_queued=lambda: worker.wake(),  # noqa: PLW0108  # worker is built below; the lambda looks it up late
        thread_owner=thread_owner_in(lambda: channels),
    )
    worker = DeliveryWorker(store=store, channels=channels, outcomes=relay, backoff=backoff, preparation=preparation)
    started: list[Channel] = []
    try:
        for channel in channels:
            await channel.start(relay)
            started.append(channel)
        yield Bridge(store, relay, worker, telegram, slack, clock, channels)
    finally:
        for channel in reversed(started):
            await channel.stop()


__all__ = ["DESK", "DIRECTORY", "Bridge", "build_bridge"]
