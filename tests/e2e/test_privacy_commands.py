"""``mydata`` on the citizen platforms end to end: the citizen receives their data as a file in their chat."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.cli import QUIET_LOGGERS
from bot.events import CitizenCommandKind, StaffActionKind
from bot.storage.store import Store
from tests.e2e.test_discord import CITIZEN as DISCORD_CITIZEN
from tests.e2e.test_discord import open_case
from tests.e2e.test_discord import running as discord_running
from tests.e2e.test_telegram import CITIZEN, first_thread, running, staff_reply
from tests.emulators.discord import DiscordEmulator
from tests.emulators.telegram import TelegramEmulator
from tests.fakes import FakeClock
from tests.privacy.helpers import PHRASE
from tests.waiting import eventually


async def test_telegram_mydata_sends_a_json_document(sqlite_store: Store, telegram: TelegramEmulator) -> None:
    """/mydata on Telegram answers with a JSON document holding the citizen's case and messages."""
    async with running(sqlite_store, telegram) as bridge:
        await first_thread(bridge, telegram, text="pothole outside number 7 Quokka Lane")
        command = "/mydata"
        telegram.push_message(
            user=CITIZEN, text=command, entities=[{"type": "bot_command", "offset": 0, "length": len(command)}]
        )
        await eventually(lambda: bool(telegram.calls_to("sendDocument")), what="the data file")
        [call] = telegram.calls_to("sendDocument")
        [(name, content)] = call.files.values()
        data: dict[str, Any] = json.loads(content)
        assert name.endswith(".json")
        assert data["cases"][0]["reference"] == bridge.slack.threads[0].reference
        assert "7 Quokka Lane" in data["cases"][0]["messages"][0]["text"]


async def test_discord_mydata_sends_a_json_file_to_the_dm(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """!mydata in a Discord DM answers with a JSON file holding the citizen's case and messages."""
    async with discord_running(sqlite_store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator, text="pothole at 7 Quokka Lane")
        await discord_emulator.dm(DISCORD_CITIZEN, "!mydata")
        await eventually(lambda: any(m.files for m in discord_emulator.sent_to(DISCORD_CITIZEN)), what="the file")
        [(name, content)] = next(m.files for m in discord_emulator.sent_to(DISCORD_CITIZEN) if m.files)
        data: dict[str, Any] = json.loads(content)
        assert name.endswith(".json")
        assert "7 Quokka Lane" in data["cases"][0]["messages"][0]["text"]


CITIZEN_NAME = "Ada Citizen"  # what the Telegram emulator's users are called
OFFICER = "Grace Officer"  # who answers in the fake Slack


async def test_round_trip_logs_no_text_and_no_names(
    sqlite_store: Store, telegram: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A message, a staff reply, a claim, mydata and forget leave neither text nor a name in the INFO logs."""
    for name in QUIET_LOGGERS:  # as ``civic-bridge run`` sets them up (``configure_logging``)
        caplog.set_level(logging.WARNING, logger=name)
    caplog.set_level(logging.INFO)  # last: the capture itself takes INFO
    async with running(sqlite_store, telegram) as bridge:
        telegram.push_message(user=CITIZEN, text=f"pothole: {PHRASE}")
        await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
        await staff_reply(bridge, f"About {PHRASE}: Monday")
        await eventually(lambda: len(telegram.texts_to(CITIZEN)) == 2, what="the staff reply")
        await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.CLAIM)
        for command in (CitizenCommandKind.MYDATA, CitizenCommandKind.FORGET):
            text = f"/{command.value}"
            telegram.push_message(
                user=CITIZEN, text=text, entities=[{"type": "bot_command", "offset": 0, "length": len(text)}]
            )
        await eventually(lambda: len(telegram.calls_to("sendDocument")) == 1, what="the data file")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the capture works: the bridge did log
    for secret in (PHRASE, "Monday", CITIZEN_NAME, OFFICER):
        assert secret not in logged
