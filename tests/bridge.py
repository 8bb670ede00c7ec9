"""The relay and delivery worker wired to fake platforms, as the unit tests drive them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.departments import Department, Directory
from bot.delivery import DeliveryWorker
from bot.model import DESK, SLACK, TELEGRAM, Address, DepartmentKey, Platform
from bot.ports import Adapter
from bot.relay import Limits, Relay
from bot.storage.store import Store
from tests.fakes import FakeCitizenPlatform, FakeClock, FakeDepartmentPlatform, KeywordRouter

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
    clock: FakeClock

    async def settle(self, *, rounds: int = 50) -> None:
        """Run the delivery worker until nothing is due now."""
        for _ in range(rounds):
            if not await self.worker.drain_once():
                return
        raise AssertionError("the outbox did not settle")


@asynccontextmanager
async def build_bridge(store: Store, clock: FakeClock, *, max_message_chars: int = 8000) -> AsyncIterator[Bridge]:
    """Wire the real relay and worker to fakes; retries are due at once (no backoff)."""
    telegram = FakeCitizenPlatform(TELEGRAM)
    slack = FakeDepartmentPlatform(SLACK)
    adapters: dict[Platform, Adapter] = {TELEGRAM: telegram, SLACK: slack}
    relay = Relay(
        store=store,
        directory=DIRECTORY,
        router=KeywordRouter(KEYWORDS, "general"),
        limits=Limits(max_message_chars=max_message_chars),
    )
    worker = DeliveryWorker(store=store, adapters=adapters, outcomes=relay, backoff=lambda _attempts: 0.0)
    for adapter in adapters.values():
        await adapter.start(relay)
    try:
        yield Bridge(store, relay, worker, telegram, slack, clock)
    finally:
        for adapter in reversed(adapters.values()):
            await adapter.stop()


__all__ = ["DESK", "Bridge", "build_bridge"]
