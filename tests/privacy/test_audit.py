"""The audit trail: who did what to which case and when, each action once, never message text."""

from __future__ import annotations

import json

from bot.events import StaffActionKind
from bot.privacy import AuditEntry, audit_entries
from bot.storage.store import Tx
from tests.bridge import Bridge
from tests.privacy.helpers import NAME, PHRASE


async def _trail(bridge: Bridge, reference: str | None = None) -> list[AuditEntry]:
    async def read(tx: Tx) -> list[AuditEntry]:
        return await audit_entries(tx, reference=reference)

    return await bridge.store.read(read)


async def _worked_case(bridge: Bridge) -> str:
    await bridge.telegram.receive(user=111, text=f"bin: {PHRASE}", name=NAME)
    await bridge.settle()
    thread = bridge.slack.threads[0]
    await bridge.slack.reply(thread, f"About {PHRASE}: Monday")
    await bridge.slack.reply(thread, f"note: {PHRASE} again")
    await bridge.slack.act(thread, StaffActionKind.CLAIM)
    await bridge.slack.act(thread, StaffActionKind.TRANSFER, department="roads")
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    await bridge.settle()
    return thread.reference


async def test_staff_actions_are_recorded_in_order_with_their_actor(bridge: Bridge) -> None:
    """A reply, a note, a claim, a transfer and a close each leave one entry naming the officer."""
    reference = await _worked_case(bridge)
    trail = await _trail(bridge, reference)
    assert [(e.actor, e.action) for e in trail] == [
        ("Grace Officer", "reply"),
        ("Grace Officer", "note"),
        ("Grace Officer", "claim"),
        ("Grace Officer", "transfer"),
        ("Grace Officer", "close"),
    ]


async def test_audit_trail_holds_no_message_text_or_citizen_name(bridge: Bridge) -> None:
    """Nothing the citizen or staff wrote, nor the citizen's name, is in the audit trail."""
    await _worked_case(bridge)
    stored = json.dumps([[e.actor, e.action, e.reference, dict(e.details)] for e in await _trail(bridge)])
    assert PHRASE not in stored
    assert NAME not in stored


async def test_redelivered_staff_event_is_recorded_once(bridge: Bridge) -> None:
    """A platform redelivering a staff reply does not add a second entry."""
    await bridge.telegram.receive(user=111, text="bin broken")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    await bridge.slack.reply(thread, "We come Monday", event_id="Ev-1")
    await bridge.slack.reply(thread, "We come Monday", event_id="Ev-1")
    assert [e.action for e in await _trail(bridge, thread.reference)] == ["reply"]
