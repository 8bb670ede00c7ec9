"""Consultation data under the privacy rules: forget, mydata, the retention purge, audit without text."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.events import CitizenCommandKind
from bot.model import TELEGRAM, Address
from bot.purge import Retention, purge
from bot.storage.store import Tx
from tests.bridge import Bridge
from tests.consultations.helpers import service
from tests.fakes import FakeClock

CITIZEN = 111
CHAT = Address(TELEGRAM, str(CITIZEN))


async def _free_text_answered(bridge: Bridge) -> int:
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.SUBSCRIBE, argument="roads")
    created = await service(bridge).create_consultation(
        department="roads", question="What should we fix?", free_text=True, actor="cli"
    )
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.ANSWER, argument="The bridge on my street")
    await bridge.settle()
    return int(created.id)


async def _texts(bridge: Bridge, consultation: int) -> list[str]:
    return [t.text for t in (await service(bridge).results(consultation)).texts]


async def test_forget_withdraws_consent_and_erases_answers(bridge: Bridge) -> None:
    """``forget`` deletes the chat's subscriptions and erases its answers' text at once."""
    consultation = await _free_text_answered(bridge)
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.FORGET)
    await bridge.settle()

    async def followed(tx: Tx) -> int:
        return len(await tx.subscriptions_of(CHAT))

    assert await bridge.store.read(followed) == 0
    assert await _texts(bridge, consultation) == ["[erased]"]


async def test_mydata_holds_the_consent_wording_and_answers(bridge: Bridge) -> None:
    """``mydata`` includes what the citizen agreed to, in the words shown, and what they answered."""
    await _free_text_answered(bridge)
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.MYDATA)
    await bridge.settle()
    reply = bridge.telegram.sent[-1]
    [attachment] = reply.files
    data = json.loads(attachment.data)
    assert data["subscriptions"][0]["wording"].startswith("Yes, send me announcements and consultations")
    assert data["consultation_answers"][0]["text"] == "The bridge on my street"


async def test_purge_erases_answers_after_the_retention_period(bridge: Bridge, clock: FakeClock) -> None:
    """Answers to a consultation closed longer than the retention period lose their text and their citizen."""
    consultation = await _free_text_answered(bridge)
    await service(bridge).close(consultation, actor="cli")
    clock.advance(timedelta(days=31).total_seconds())

    async def run(tx: Tx) -> int:
        return (await purge(tx, Retention(days=30))).consultation_answers

    assert await bridge.store.atomic(run) == 1
    assert await _texts(bridge, consultation) == ["[erased]"]


async def test_purge_keeps_a_subscribers_identity(bridge: Bridge, clock: FakeClock) -> None:
    """A citizen whose consent stands is not de-identified by the purge: broadcasts still reach them by name."""
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.SUBSCRIBE, argument="roads")
    await bridge.settle()
    clock.advance(timedelta(days=31).total_seconds())

    async def run(tx: Tx) -> int:
        return (await purge(tx, Retention(days=30))).citizens

    assert await bridge.store.atomic(run) == 0


async def test_forget_drops_broadcasts_still_queued(bridge: Bridge) -> None:
    """A broadcast queued but not yet sent is not sent after the citizen wrote ``forget``."""
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.SUBSCRIBE, argument="roads")
    await bridge.settle()
    await service(bridge).create_announcement(department="roads", text="Road works.", actor="cli")
    await bridge.telegram.command(user=CITIZEN, command=CitizenCommandKind.FORGET)
    await bridge.settle()
    assert not any("Road works." in text for text in bridge.telegram.texts(CITIZEN))
