"""The citizen commands README promises on every platform, typed in the web chat or pressed as buttons."""

from __future__ import annotations

import pytest

from bot import texts
from bot.storage.store import Tx
from tests.web.harness import Browser, Web


async def _staff_texts(web_bridge: Web, reference: str) -> list[str]:
    async def read(tx: Tx) -> list[str]:
        case = await tx.case_by_reference(reference)
        assert case is not None
        return [m.text for m in await tx.messages(case.id)]

    return await web_bridge.bridge.store.read(read)


async def test_typed_help_answers_with_the_commands_and_opens_no_case(web_bridge: Web, citizen: Browser) -> None:
    """Typing ``help`` in the web chat shows how the chat works instead of opening a case."""
    await citizen.say("help")
    await web_bridge.bridge.settle()
    data = await citizen.history()
    assert data["case"] is None
    assert any(item["text"].startswith(texts.HELP) for item in data["items"])


@pytest.mark.parametrize("word", ["status", "new", "start", "Help"])
async def test_typed_commands_are_not_relayed_to_staff(web_bridge: Web, citizen: Browser, word: str) -> None:
    """``status``, ``new``, ``start`` and ``help`` typed into an open case never reach the department."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    reference = str((await citizen.history())["case"]["reference"])
    await citizen.say(word)
    await web_bridge.bridge.settle()
    assert word not in await _staff_texts(web_bridge, reference)


async def test_typed_new_closes_the_current_case(web_bridge: Web, citizen: Browser) -> None:
    """Typing ``new`` closes the open case, as the new-case button does."""
    await citizen.say("There is a pothole on Mill Lane")
    await web_bridge.bridge.settle()
    await citizen.say("new")
    await web_bridge.bridge.settle()
    assert (await citizen.history())["case"]["status"] == "closed"
