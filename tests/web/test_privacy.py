"""Privacy on the web: ``mydata`` typed in the web chat, and an erased case on the desk."""

from __future__ import annotations

import json

from bot.erased_in_flight import ERASED
from bot.privacy import audit_entries, erase
from bot.storage.store import Tx
from tests.web.harness import Browser, Web
from tests.web.sse import connected, next_event

PHRASE = "Zanzibar-quokka-7731 lives at 12 Elm Row"


async def _open_case(web_bridge: Web, citizen: Browser) -> str:
    await citizen.say(f"Pothole: {PHRASE}")
    await web_bridge.bridge.settle()
    return str((await citizen.history())["case"]["reference"])


async def test_typed_mydata_shows_the_citizens_data_in_the_chat(web_bridge: Web, citizen: Browser) -> None:
    """Typing ``mydata`` in the web chat shows the citizen's cases and messages as JSON in the chat."""
    reference = await _open_case(web_bridge, citizen)
    stream = await citizen.client.get("/chat/events")
    await connected(stream)
    await citizen.say("mydata")
    await web_bridge.bridge.settle()
    item = (await next_event(stream))["item"]
    data = json.loads(item["text"][item["text"].index("{") :])
    assert data["cases"][0]["reference"] == reference
    assert PHRASE in data["cases"][0]["messages"][0]["text"]


async def test_typed_mydata_is_not_passed_to_staff(web_bridge: Web, citizen: Browser) -> None:
    """``mydata`` is a command: it does not reach the department as a message."""
    reference = await _open_case(web_bridge, citizen)
    await citizen.say("mydata")
    await web_bridge.bridge.settle()

    async def texts(tx: Tx) -> list[str]:
        case = await tx.case_by_reference(reference)
        assert case is not None
        return [m.text for m in await tx.messages(case.id)]

    assert "mydata" not in await web_bridge.bridge.store.read(texts)


async def test_desk_shows_erased_for_an_erased_case(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """After an erasure the desk's case page shows "[erased]" where the citizen's words were."""
    reference = await _open_case(web_bridge, citizen)

    async def work(tx: Tx) -> None:
        case = await tx.case_by_reference(reference)
        assert case is not None
        await erase(tx, [case], actor="cli:test")

    await web_bridge.bridge.store.atomic(work)
    await web_bridge.bridge.settle()
    html = await staff.desk_page(f"/desk/case/{reference}")
    assert ERASED in html
    assert PHRASE not in html
    assert PHRASE not in await staff.desk_page("/desk")


async def test_desk_erase_button_grants_a_citizens_request(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """A citizen's ``forget`` on an open desk case is answered with the desk's Erase button."""
    reference = await _open_case(web_bridge, citizen)
    await citizen.say("forget")
    await web_bridge.bridge.settle()
    await staff.desk_post(reference, do="erase")
    await web_bridge.bridge.settle()
    assert PHRASE not in await staff.desk_page(f"/desk/case/{reference}")


async def test_desk_case_view_is_audited(web_bridge: Web, citizen: Browser, staff: Browser) -> None:
    """Opening a case on the desk leaves an entry in the audit trail."""
    reference = await _open_case(web_bridge, citizen)
    await staff.desk_page(f"/desk/case/{reference}")

    async def read(tx: Tx) -> list[str]:
        return [e.action for e in await audit_entries(tx, reference=reference)]

    assert "desk_view" in await web_bridge.bridge.store.read(read)
