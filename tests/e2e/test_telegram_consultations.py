"""Consultations on Telegram end to end: /subscribe, inline-keyboard and typed answers, /stop, a blocked bot."""

from __future__ import annotations

from bot.consultations.service import ConsultationService
from bot.storage.store import Store
from tests.bridge import Bridge
from tests.e2e.test_telegram import CITIZEN, running
from tests.emulators.telegram import BLOCKED, TelegramEmulator
from tests.waiting import eventually


def _service(bridge: Bridge) -> ConsultationService:
    return ConsultationService(store=bridge.store, directory=bridge.relay.directory, on_queued=bridge.worker.wake)


async def _subscribed(telegram: TelegramEmulator) -> None:
    telegram.push_message(user=CITIZEN, text="/subscribe roads")
    await eventually(lambda: any("You follow" in t for t in telegram.texts_to(CITIZEN)), what="the confirmation")


async def _asked(bridge: Bridge, telegram: TelegramEmulator) -> int:
    created = await _service(bridge).create_consultation(
        department="roads", question="Which street first?", options=["Mill Lane", "High Street"], actor="test"
    )
    await eventually(lambda: "Which street first?" in telegram.texts_to(CITIZEN)[-1], what="the consultation")
    return int(created.id)


async def _counts(bridge: Bridge, consultation: int) -> list[int]:
    return [c.count for c in (await _service(bridge).results(consultation)).counts]


async def test_inline_button_answers_the_consultation(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """The consultation arrives with an inline keyboard; pressing a button records the answer."""
    async with running(sqlite_store, telegram) as bridge:
        await _subscribed(telegram)
        consultation = await _asked(bridge, telegram)
        markup = telegram.sent_to(CITIZEN)[-1].json("reply_markup")
        buttons = [row[0]["callback_data"] for row in markup["inline_keyboard"]]
        assert buttons == [f"poll:{consultation}:1", f"poll:{consultation}:2"]
        telegram.push_callback(user=CITIZEN, data=f"poll:{consultation}:2")
        await eventually(lambda: "recorded: 2. High Street" in telegram.texts_to(CITIZEN)[-1], what="the thanks")
        assert await _counts(bridge, consultation) == [0, 1]


async def test_typed_number_answers_the_consultation(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """Typing an option's number answers, and opens no case."""
    async with running(sqlite_store, telegram) as bridge:
        await _subscribed(telegram)
        consultation = await _asked(bridge, telegram)
        telegram.push_message(user=CITIZEN, text="1")
        await eventually(lambda: "recorded: 1. Mill Lane" in telegram.texts_to(CITIZEN)[-1], what="the thanks")
        assert await _counts(bridge, consultation) == [1, 0]
        assert bridge.slack.threads == []


async def test_stop_is_honoured(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """After /stop the next announcement is not sent to the citizen."""
    async with running(sqlite_store, telegram) as bridge:
        await _subscribed(telegram)
        telegram.push_message(user=CITIZEN, text="/stop")
        await eventually(lambda: "no longer receive" in telegram.texts_to(CITIZEN)[-1], what="the confirmation")
        sent = len(telegram.texts_to(CITIZEN))
        announced = await _service(bridge).create_announcement(department="roads", text="Road works.", actor="test")
        assert announced.recipients == 0
        assert len(telegram.texts_to(CITIZEN)) == sent


async def test_blocked_bot_unsubscribes(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """A broadcast answered "bot was blocked by the user" unsubscribes the chat."""
    async with running(sqlite_store, telegram) as bridge:
        await _subscribed(telegram)
        telegram.fail("sendMessage", BLOCKED)
        await _service(bridge).create_announcement(department="roads", text="One.", actor="test")
        await eventually(lambda: len(telegram.calls_to("sendMessage")) == 2, what="the refused broadcast")

        async def unsubscribed() -> bool:
            later = await _service(bridge).create_announcement(department="roads", text="Two.", actor="test")
            return later.recipients == 0

        await eventually(unsubscribed, what="the unsubscription")
