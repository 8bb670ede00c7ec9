"""Every transfer and every menu choice labels the case's first message with the department it belongs to."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from bot.events import StaffActionKind
from bot.storage.learned import LabelledCase, LabelSource
from bot.storage.store import Tx
from bot.storage.tables import cases, deliveries, due_jobs, learned_examples, messages
from tests.bridge import Bridge


async def labelled(bridge: Bridge) -> list[tuple[str, str, LabelSource]]:
    """The labelled cases as (first text, department, source)."""

    async def read(tx: Tx) -> list[LabelledCase]:
        return await tx.labelled_cases()

    return [(item.text, item.department, item.source) for item in await bridge.store.read(read)]


async def test_transfer_labels_the_first_message_with_the_department_that_took_it(bridge: Bridge) -> None:
    """A case staff transferred from waste to roads teaches: its first message belongs to roads."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.telegram.receive(user=111, text="second message")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.TRANSFER, "roads")
    assert await labelled(bridge) == [("My bin was not collected", "roads", LabelSource.TRANSFER)]


async def test_the_last_transfer_is_the_label(bridge: Bridge) -> None:
    """A case transferred twice is labelled with the department that finally took it."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.TRANSFER, "roads")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[-1], StaffActionKind.TRANSFER, "housing")
    assert [department for _, department, _ in await labelled(bridge)] == ["housing"]


async def test_menu_choice_labels_the_first_message(bridge: Bridge) -> None:
    """A citizen who picks a department from the menu teaches where their message belongs."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.choose(user=111, choice="roads")
    assert await labelled(bridge) == [("the bin lorry damaged the road", "roads", LabelSource.MENU)]


async def test_menu_other_teaches_nothing(bridge: Bridge) -> None:
    """Choosing Other says where a case does not belong, so it is no example."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.choose(user=111, choice="other")
    assert await labelled(bridge) == []


async def test_routed_case_without_transfer_teaches_nothing(bridge: Bridge) -> None:
    """A case the router sent and staff kept is not a new example (the router already knew)."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.settle()
    assert await labelled(bridge) == []


async def test_erased_messages_take_the_example_with_them(bridge: Bridge) -> None:
    """The example's text is the case's message itself: once the messages are erased, the example is gone."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.choose(user=111, choice="roads")

    async def erase(tx: Tx) -> None:
        await tx.connection.execute(update(messages).values(text=""))  # what erasure leaves of a message

    await bridge.store.atomic(erase)
    assert await labelled(bridge) == []


async def test_purging_a_case_takes_its_label_and_timer_with_it(bridge: Bridge) -> None:
    """Deleting a case row (erasure, retention) deletes its learned label and its pending timers too."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.choose(user=111, choice="roads")
    await bridge.telegram.receive(user=222, text="the bin lorry damaged the road")  # pending: its menu timer waits

    async def purge(tx: Tx) -> tuple[int, int]:
        for table in (deliveries, messages, cases):
            await tx.connection.execute(delete(table))
        left = [
            (await tx.connection.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (learned_examples, due_jobs)
        ]
        return left[0], left[1]

    assert await bridge.store.atomic(purge) == (0, 0)
