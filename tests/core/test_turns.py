"""Turns: one event at a time per conversation, first come first served, and nothing kept once idle."""

from __future__ import annotations

import asyncio

from bot.relay.turns import Turns


async def test_events_of_one_conversation_go_in_the_order_they_came_and_others_do_not_wait() -> None:
    """Three events of one chat finish in arrival order even when the first is slowest; another chat goes at once."""
    turns = Turns()
    finished: list[str] = []
    first_may_finish = asyncio.Event()

    async def event(key: str, name: str, *, slow: bool = False) -> None:
        async with turns.turn(key):
            if slow:
                await first_may_finish.wait()
            finished.append(name)

    chat = [asyncio.create_task(event("chat-1", n, slow=n == "a")) for n in ("a", "b", "c")]
    await event("chat-2", "other")  # not held up by chat-1's slow event
    assert finished == ["other"]
    first_may_finish.set()
    await asyncio.gather(*chat)
    assert finished == ["other", "a", "b", "c"]
    assert len(turns) == 0  # an idle conversation takes no memory


async def test_a_failed_event_gives_the_turn_to_the_next() -> None:
    """An event that raises does not block the conversation's later events."""
    turns = Turns()

    may_fail = asyncio.Event()

    async def failing() -> None:
        async with turns.turn("chat"):
            await may_fail.wait()
            raise RuntimeError("store down")

    failure = asyncio.create_task(failing())
    await asyncio.sleep(0)  # it holds the turn now
    may_fail.set()
    async with turns.turn("chat"):  # waits for it, and gets the turn although it raised
        assert isinstance(failure.exception(), RuntimeError)
    assert len(turns) == 0
