"""Access: a citizen's ``mydata`` and the admin's ``privacy export`` hand over the citizen's data."""

from __future__ import annotations

import json
from typing import Any

from bot.events import CitizenCommandKind
from bot.privacy import audit_entries, export
from bot.storage.store import Tx
from tests.bridge import Bridge
from tests.privacy.helpers import NAME, PHRASE, closed_case


async def _my_data(bridge: Bridge) -> dict[str, Any]:
    await bridge.telegram.command(user=111, command=CitizenCommandKind.MYDATA)
    await bridge.settle()
    [file] = bridge.telegram.sent[-1].files
    assert file.mime_type == "application/json"
    data: dict[str, Any] = json.loads(file.data)
    return data


async def test_mydata_sends_the_citizen_a_file_with_their_cases_and_messages(bridge: Bridge) -> None:
    """``mydata`` answers in the chat with a JSON file holding each case and its messages with dates."""
    reference = await closed_case(bridge)
    data = await _my_data(bridge)
    [case] = data["cases"]
    assert case["reference"] == reference
    assert any(PHRASE in m["text"] and m["at"] for m in case["messages"])
    assert {m["direction"] for m in case["messages"]} >= {"citizen", "staff"}


async def test_mydata_leaves_out_staff_internal_notes(bridge: Bridge) -> None:
    """Internal notes are for staff: the citizen's copy does not hold them."""
    await bridge.telegram.receive(user=111, text="pothole on my road")
    await bridge.settle()
    await bridge.slack.reply(bridge.slack.threads[0], "note: looks like the Mill Lane crew")
    data = await _my_data(bridge)
    assert "Mill Lane crew" not in json.dumps(data)


async def test_mydata_names_the_citizen_and_their_account(bridge: Bridge) -> None:
    """The copy says who the data is about: name and platform account."""
    await closed_case(bridge)
    data = await _my_data(bridge)
    assert data["citizens"] == [{"platform": "telegram", "account_id": "111", "name": NAME, "language": "en"}]


async def test_mydata_is_recorded_in_the_audit_trail(bridge: Bridge) -> None:
    """A citizen's access request is recorded once, as an export of each case."""
    reference = await closed_case(bridge)
    await _my_data(bridge)

    async def read(tx: Tx) -> list[str]:
        return [e.action for e in await audit_entries(tx, reference=reference) if e.actor == "citizen"]

    assert await bridge.store.read(read) == ["export"]


async def test_admin_export_includes_internal_notes(bridge: Bridge) -> None:
    """The admin export (a formal access request) holds every message, notes included."""
    await bridge.telegram.receive(user=111, text="pothole on my road")
    await bridge.settle()
    await bridge.slack.reply(bridge.slack.threads[0], "note: looks like the Mill Lane crew")

    async def read(tx: Tx) -> dict[str, object]:
        case = await tx.case_by_reference(bridge.slack.threads[0].reference)
        assert case is not None
        return await export(tx, [case])

    assert "Mill Lane crew" in json.dumps(await bridge.store.read(read))
