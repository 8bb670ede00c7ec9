"""Helpers for the consultation tests: subscribing a chat directly in the store, and the service on a bridge."""

from __future__ import annotations

from bot.consultations.model import FollowKey
from bot.consultations.service import ConsultationService
from bot.events import Sender
from bot.model import Address
from bot.storage.store import Store, Tx
from tests.bridge import Bridge


async def subscribe(store: Store, chat: Address, key: str, *, language: str = "en") -> None:
    """The chat's citizen opts in to ``key`` (as the ``subscribe`` command records it)."""

    async def body(tx: Tx) -> None:
        citizen = await tx.citizen(Sender(chat.platform, chat.chat, f"Citizen {chat.chat}", language))
        await tx.subscribe(chat, citizen_id=citizen.id, key=FollowKey(key), language=language, consent_text="Yes.")

    await store.atomic(body)


def service(bridge: Bridge) -> ConsultationService:
    """The service wired as the app wires it: the bridge's store and departments, ringing its worker."""
    return ConsultationService(store=bridge.store, directory=bridge.relay.directory, on_queued=bridge.worker.wake)
