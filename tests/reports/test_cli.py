"""``civic-bridge report`` as an operator runs it: table, CSV and JSON from a seeded SQLite file, and bad dates."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.backends import open_store
from tests.fakes import FakeClock
from tests.reports.seed import seed

ROUTING = """\
timezone: UTC
fallback: general
departments:
  - {key: roads, name: Roads & Transport, desk: web, keywords: [pothole]}
  - {key: waste, name: Waste & Recycling, desk: web, keywords: [bin]}
  - {key: general, name: Citizen Services, desk: web}
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A seeded SQLite file and a routing file, named by the settings the command reads."""

    async def make() -> None:
        async with open_store("sqlite", tmp_path, clock=FakeClock()) as store:
            await seed(store)

    asyncio.run(make())
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING, encoding="utf-8")
    for name in ("BRIDGE_TELEGRAM_TOKEN", "BRIDGE_SLACK_BOT_TOKEN", "BRIDGE_DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BRIDGE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    monkeypatch.setenv("BRIDGE_ROUTING_FILE", str(routing))
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", "--since", "2026-01-01", "--until", "2026-01-08", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("database")
def test_table_lists_departments_overall_and_says_what_hours_are(capsys: pytest.CaptureFixture[str]) -> None:
    """The default table has a row per department and overall, the roads medians, and says hours are wall-clock."""
    code, out, _ = _run(capsys)
    assert code == 0
    roads = next(line for line in out.splitlines() if line.startswith("Roads & Transport "))
    assert roads.split()[3:9] == ["5", "3", "3.0", "7.6", "20.0", "28.0"]
    assert "All departments" in out
    assert "wall-clock hours" in out


@pytest.mark.usefixtures("database")
def test_csv_has_a_header_row_and_one_row_per_department(capsys: pytest.CaptureFixture[str]) -> None:
    """CSV starts with its header; rows are roads, waste, general, the unrouted cases and (all)."""
    code, out, _ = _run(capsys, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert out.splitlines()[0].startswith("department,name,opened,closed,first_response_hours_median")
    assert [r["department"] for r in rows] == ["roads", "waste", "general", "(none)", "(all)"]
    assert (rows[0]["first_response_hours_p90"], rows[0]["within_target_percent"]) == ("7.6", "75")


@pytest.mark.usefixtures("database")
def test_json_has_stable_keys_and_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON carries the period, the time zone and numbers (null where nothing was measured)."""
    code, out, _ = _run(capsys, "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert list(data) == sorted(data)
    assert (data["since"], data["until"], data["time_zone"], data["hours"]) == (
        "2026-01-01",
        "2026-01-08",
        "UTC",
        "wall-clock",
    )
    roads = data["departments"][0]
    assert roads["first_response_hours"] == {"cases": 5, "median": 3.0, "p90": pytest.approx(7.6)}
    assert data["departments"][1]["resolution_hours"]["median"] is None
    assert data["overall"]["ratings"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--since", "2026-13-01"], "--since '2026-13-01' is not a date: write it as YYYY-MM-DD"),
        (["--until", "01/02/2026"], "--until '01/02/2026' is not a date: write it as YYYY-MM-DD"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--since (2026-02-01) must be before --until"),
    ],
)
def test_bad_dates_are_refused_with_the_fix(capsys: pytest.CaptureFixture[str], args: list[str], problem: str) -> None:
    """An impossible or misspelt date, or a range backwards, exits 2 with one line saying how to write it."""
    code = main(["report", *args])
    _, err = capsys.readouterr()
    assert code == 2
    assert problem in err
    assert "Traceback" not in err
