"""``civic-bridge consult`` as an operator runs it, on a SQLite file with one subscribed chat."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.consultations.model import ConsultationId
from bot.model import TELEGRAM, Address
from bot.storage.store import Tx
from tests.backends import open_store
from tests.consultations.helpers import subscribe

REPO = Path(__file__).resolve().parents[2]
FAN = Address(TELEGRAM, "111")
CHOICE = ("create", "--department", "roads", "--question", "Which?", "--option", "A", "--option", "B")


def _civic(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(  # noqa: S603  # our own command, arguments chosen by the test
        [sys.executable, "-m", "bot", "consult", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A SQLite database where telegram chat 111 follows roads."""

    async def write() -> None:
        async with open_store("sqlite", tmp_path) as store:
            await subscribe(store, FAN, "roads")

    asyncio.run(write())
    return tmp_path


def _answer(tmp_path: Path, consultation: int, option: int) -> None:
    async def write() -> None:
        async with open_store("sqlite", tmp_path) as store:

            async def body(tx: Tx) -> None:
                await tx.save_answer(ConsultationId(consultation), FAN, citizen_id=None, option=option)

            await store.atomic(body)

    asyncio.run(write())


def test_create_sends_to_the_subscribed_chats(database: Path) -> None:
    """``consult create`` says how many subscribed chats the consultation was queued for."""
    result = _civic(database, *CHOICE)
    assert (result.returncode, result.stdout.strip()) == (0, "consultation 1 sent to 1 subscribed chats")


def test_results_as_csv_count_per_option(database: Path) -> None:
    """``consult results ID --format csv`` prints one row per option with its count."""
    _civic(database, *CHOICE)
    _answer(database, 1, 2)
    result = _civic(database, "results", "1", "--format", "csv")
    assert result.stdout.splitlines() == ["number,option,count", "1,A,0", "2,B,1"]


def test_results_as_json_name_no_one_by_default(database: Path) -> None:
    """JSON results hold counts and no one's identity unless the consultation shows who answered."""
    _civic(database, *CHOICE)
    _answer(database, 1, 1)
    data = json.loads(_civic(database, "results", "1", "--format", "json").stdout)
    assert data["options"][0] == {"number": 1, "option": "A", "count": 1}
    assert "who_answered" not in data


def test_close_then_list_shows_it_closed(database: Path) -> None:
    """``consult close ID`` closes it; ``consult list`` then shows it closed."""
    _civic(database, "create", "--department", "roads", "--question", "Why?", "--free-text", "--closes", "2099-01-31")
    assert _civic(database, "close", "1").stdout.strip() == "consultation 1 closed"
    [_head, row] = _civic(database, "list").stdout.splitlines()
    assert "consultation" in row
    assert "closed" in row


def test_announce_reports_its_recipients(database: Path) -> None:
    """``consult announce --department KEY TEXT`` sends a notice and says to how many chats."""
    result = _civic(database, "announce", "--department", "roads", "Mill Lane is closed on Monday.")
    assert result.stdout.strip() == "announcement 1 sent to 1 subscribed chats"


def test_unknown_department_exits_1_with_the_known_ones(database: Path) -> None:
    """A department the routing file lacks is refused with exit 1 and the known keys."""
    result = _civic(database, "announce", "--department", "nowhere", "Hi")
    assert result.returncode == 1
    assert "known: roads" in result.stderr
