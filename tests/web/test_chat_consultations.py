"""Consultations in the web chat: subscribe and stop typed as words, answers by button and by typed number."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from bot.consultations.model import FollowKey
from bot.consultations.service import ConsultationService
from bot.storage.store import Tx
from bot.storage.tables import citizens
from tests.web.harness import Browser, Web


def _service(web_bridge: Web) -> ConsultationService:
    bridge = web_bridge.bridge
    return ConsultationService(store=bridge.store, directory=bridge.relay.directory, on_queued=bridge.worker.wake)


async def _subscribed(web_bridge: Web, citizen: Browser) -> None:
    await citizen.say("subscribe roads")
    await web_bridge.bridge.settle()


async def _asked(web_bridge: Web) -> int:
    created = await _service(web_bridge).create_consultation(
        department="roads", question="Which street first?", options=["Mill Lane", "High Street"], actor="test"
    )
    await web_bridge.bridge.settle()
    return int(created.id)


async def _counts(web_bridge: Web, consultation: int) -> list[int]:
    return [c.count for c in (await _service(web_bridge).results(consultation)).counts]


async def test_consultation_shows_buttons_and_a_press_answers(web_bridge: Web, citizen: Browser) -> None:
    """The consultation appears with one button per option; choosing one records the answer."""
    await _subscribed(web_bridge, citizen)
    consultation = await _asked(web_bridge)
    item = (await citizen.history())["items"][-1]
    assert [option["key"] for option in item["options"]] == [f"poll:{consultation}:1", f"poll:{consultation}:2"]
    response = await citizen.post_chat(
        "/chat/choose", {"event_id": str(uuid.uuid4()), "choice": f"poll:{consultation}:2"}
    )
    assert response.status == 200
    await web_bridge.bridge.settle()
    assert await _counts(web_bridge, consultation) == [0, 1]


async def test_typed_number_answers_and_opens_no_case(web_bridge: Web, citizen: Browser) -> None:
    """Typing an option's number answers the consultation; no case opens."""
    await _subscribed(web_bridge, citizen)
    consultation = await _asked(web_bridge)
    await citizen.say("1")
    await web_bridge.bridge.settle()
    assert await _counts(web_bridge, consultation) == [1, 0]
    assert (await citizen.history())["case"] is None


async def test_typed_stop_is_honoured(web_bridge: Web, citizen: Browser) -> None:
    """``stop`` typed in the web chat withdraws consent at once: the next announcement reaches no one."""
    await _subscribed(web_bridge, citizen)
    await citizen.say("stop")
    await web_bridge.bridge.settle()
    announced = await _service(web_bridge).create_announcement(department="roads", text="Road works.", actor="test")
    assert announced.recipients == 0
    assert (await citizen.texts())[-1].startswith("Done. You will no longer receive")


async def test_answer_word_without_a_consultation_is_a_case_message(web_bridge: Web, citizen: Browser) -> None:
    """A web message starting with "answer" when no consultation was ever sent opens a case like any other."""
    await citizen.say("answer me please, the street light is out")
    await web_bridge.bridge.settle()
    assert (await citizen.history())["case"] is not None


async def test_chat_gone_unsubscribes(web_bridge: Web, citizen: Browser) -> None:
    """A broadcast to a web chat no page can open again fails for good and unsubscribes it."""
    await _subscribed(web_bridge, citizen)

    async def gone(tx: Tx) -> None:
        await tx.connection.execute(update(citizens).values(user_id="erased-1"))

    await web_bridge.bridge.store.atomic(gone)
    await _service(web_bridge).create_announcement(department="roads", text="One.", actor="test")
    await web_bridge.bridge.settle()

    async def followers(tx: Tx) -> int:
        return len(await tx.audience([FollowKey("roads")]))

    assert await web_bridge.bridge.store.read(followers) == 0
