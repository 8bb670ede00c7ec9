"""A thread root that fails for good never strands the case: the citizen is told and the fallback gets it."""

from __future__ import annotations

import logging

import pytest

from bot.model import CaseStatus
from bot.ports import DeliveryError
from bot.storage.store import Store, Tx
from tests.bridge import Bridge

HOPELESS = DeliveryError("channel_not_found", permanent=True)


async def test_a_root_that_fails_for_good_sends_the_case_to_the_fallback_and_tells_the_citizen(bridge: Bridge) -> None:
    """Roads' channel is gone: the case opens in Citizen Services, whose thread says why, and the citizen knows."""
    bridge.slack.fail_next(HOPELESS)
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane")
    await bridge.telegram.receive(user=111, text="it is getting bigger")
    await bridge.settle()
    [thread] = bridge.slack.threads
    root = thread.posts[0]
    assert thread.channel == "C0GENERAL"
    assert "Roads & Transport" in root.text
    assert "channel_not_found" in root.text
    assert "pothole on Mill Lane" in root.text
    assert "it is getting bigger" in root.text
    assert any("Citizen Services" in text and thread.reference in text for text in bridge.telegram.texts(111)[1:])


async def test_when_the_fallback_root_fails_too_the_case_stays_open_and_the_log_says_so(
    bridge: Bridge, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """No department can be reached: the case stays open, the citizen is told, the log names the case, not the text."""
    bridge.slack.fail_next(HOPELESS, HOPELESS)
    with caplog.at_level(logging.WARNING):
        await bridge.telegram.receive(user=111, text="pothole on Mill Lane", name="Ada Private")
        await bridge.settle()

    async def status(tx: Tx) -> CaseStatus | None:
        case = await tx.active_case(bridge.telegram.chat(111))
        return case.status if case else None

    assert bridge.slack.threads == []
    assert await store.read(status) is CaseStatus.OPEN
    assert any("could not be passed on" in text for text in bridge.telegram.texts(111))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "no department thread" in logged
    assert ("Mill Lane" in logged, "Ada" in logged) == (False, False)
