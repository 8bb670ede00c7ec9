"""The ``privacy`` and ``audit`` commands as an operator runs them, on a SQLite file a bridge wrote."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.consultations.service import ConsultationService
from bot.events import CitizenCommandKind
from bot.model import TELEGRAM, Address
from tests.backends import open_store
from tests.bridge import build_bridge
from tests.consultations.helpers import subscribe
from tests.fakes import FakeClock
from tests.privacy.helpers import NAME, PHRASE, closed_case

REPO = Path(__file__).resolve().parents[2]
SUBSCRIBER_WORDS = "More benches by the river"


def _civic(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(  # noqa: S603  # our own command, arguments chosen by the test
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def reference(tmp_path: Path) -> str:
    """A SQLite database holding one closed case of telegram user 111 (written a year ago)."""

    async def write() -> str:
        clock = FakeClock()
        async with open_store("sqlite", tmp_path, clock=clock) as store, build_bridge(store, clock) as bridge:
            return await closed_case(bridge)

    return asyncio.run(write())


def test_export_prints_the_citizens_data_as_json(tmp_path: Path, reference: str) -> None:
    """``privacy export --citizen telegram:111`` prints JSON with the case and its messages."""
    result = _civic(tmp_path, "privacy", "export", "--citizen", "telegram:111")
    data = json.loads(result.stdout)
    assert [case["reference"] for case in data["cases"]] == [reference]
    assert PHRASE in result.stdout


def test_erase_without_yes_asks_and_a_no_keeps_everything(tmp_path: Path, reference: str) -> None:
    """Without ``--yes`` the command asks; any answer but "erase" erases nothing."""
    result = _civic(tmp_path, "privacy", "erase", "--reference", reference, stdin="no\n")
    assert result.returncode == 1
    assert PHRASE in _civic(tmp_path, "privacy", "export", "--reference", reference).stdout


def test_erase_with_yes_leaves_no_trace_in_the_sqlite_file(tmp_path: Path, reference: str) -> None:
    """``privacy erase --yes`` leaves neither the phrase nor the name in the database file or its WAL."""
    result = _civic(tmp_path, "privacy", "erase", "--reference", reference, "--yes")
    assert result.returncode == 0, result.stderr
    files = [tmp_path / "bridge.db", tmp_path / "bridge.db-wal"]
    assert [f.name for f in files if f.exists() and PHRASE.encode() in f.read_bytes()] == []
    assert [f.name for f in files if f.exists() and NAME.encode() in f.read_bytes()] == []


def test_purge_dry_run_prints_counts_only(tmp_path: Path, reference: str) -> None:
    """``privacy purge --dry-run`` says what the retention period would remove, and removes nothing."""
    result = _civic(tmp_path, "privacy", "purge", "--dry-run")
    assert "retention 730 days; would remove (dry run):" in result.stdout
    assert "cases anonymised: 0" in result.stdout
    assert PHRASE in _civic(tmp_path, "privacy", "export", "--reference", reference).stdout


def test_audit_lists_exports_and_erasures_without_text(tmp_path: Path, reference: str) -> None:
    """``audit --reference`` lists staff actions, the export and the erasure, and no message text."""
    _civic(tmp_path, "privacy", "export", "--reference", reference)
    _civic(tmp_path, "privacy", "erase", "--reference", reference, "--yes")
    result = _civic(tmp_path, "audit", "--reference", reference)
    actions = [line.split("\t")[2] for line in result.stdout.splitlines()]
    assert actions == ["reply", "close", "export", "erase"]
    assert PHRASE not in result.stdout


def test_audit_since_filters_by_date(tmp_path: Path, reference: str) -> None:
    """``audit --since`` leaves out what happened before that date."""
    del reference
    assert _civic(tmp_path, "audit", "--since", "2100-01-01").stdout == ""


@pytest.fixture
def subscriber(tmp_path: Path) -> None:
    """A SQLite database where telegram user 222 follows Roads and answered a free-text consultation, with no case."""

    async def write() -> None:
        clock = FakeClock()
        async with open_store("sqlite", tmp_path, clock=clock) as store, build_bridge(store, clock) as bridge:
            await subscribe(store, Address(TELEGRAM, "222"), "roads")
            service = ConsultationService(store=store, directory=bridge.relay.directory)
            await service.create_consultation(department="roads", question="Ideas?", free_text=True, actor="cli")
            await bridge.telegram.command(user=222, command=CitizenCommandKind.ANSWER, argument=SUBSCRIBER_WORDS)

    asyncio.run(write())


def test_export_finds_a_citizen_with_subscriptions_and_answers_but_no_case(tmp_path: Path, subscriber: None) -> None:
    """``privacy export --citizen`` of a subscriber who never opened a case prints their consent and answer."""
    result = _civic(tmp_path, "privacy", "export", "--citizen", "telegram:222")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cases"] == []
    assert [c["account_id"] for c in data["citizens"]] == ["222"]
    assert SUBSCRIBER_WORDS in result.stdout
    assert "Yes." in result.stdout  # the consent wording


def test_erase_finds_a_citizen_with_subscriptions_and_answers_but_no_case(tmp_path: Path, subscriber: None) -> None:
    """``privacy erase --citizen --yes`` of a subscriber with no case withdraws consent and erases their answer."""
    result = _civic(tmp_path, "privacy", "erase", "--citizen", "telegram:222", "--yes")
    assert result.returncode == 0, result.stderr
    after = _civic(tmp_path, "privacy", "export", "--citizen", "telegram:222")
    assert SUBSCRIBER_WORDS not in after.stdout + after.stderr
    files = [tmp_path / "bridge.db", tmp_path / "bridge.db-wal"]
    assert [f.name for f in files if f.exists() and SUBSCRIBER_WORDS.encode() in f.read_bytes()] == []
