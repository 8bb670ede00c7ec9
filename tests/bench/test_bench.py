"""The benchmark's plumbing: the command runs, prints one row per measurement and backend, and writes JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import fanout
from bench.common import Options, Row, percentile
from bench.table import markdown


def test_markdown_prints_one_line_per_row_with_ratio() -> None:
    """Each row becomes one table line; pipes in a cell are escaped and the ratio has two decimals."""
    rows = [Row("1 relay throughput", "sqlite", "100 msg/s", floor="300 tx/s", ratio=1 / 3), Row("x", "pg", "a|b")]
    lines = markdown(rows).splitlines()
    assert len(lines) == 2 + len(rows)
    assert "| 0.33 |" in lines[2]
    assert "a\\|b" in lines[3]


def test_percentile_is_nearest_rank() -> None:
    """p50 of 1..100 is 50 and p99 is 99."""
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99)) == (50.0, 99.0)


def test_failed_measurement_becomes_a_not_measured_row(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A measurement that raises is printed as 'not measured: <why>' and the run still finishes."""

    async def broken(backend: str, options: Options) -> list[Row]:
        raise RuntimeError("emulator missing")

    monkeypatch.setattr(bench_main, "MEASUREMENTS", {"broken": ("9 broken", broken)})
    out = tmp_path / "result.json"
    assert bench_main.main(["--only", "broken", "--backends", "sqlite", "--json", str(out)]) == 0
    assert "| 9 broken | sqlite | not measured: RuntimeError: emulator missing |" in capsys.readouterr().out
    assert json.loads(out.read_text())["rows"][0]["result"].startswith("not measured")


def test_quick_burst_runs_against_the_real_slack_client_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--quick --only burst`` on SQLite prints its row and every message reached the emulator exactly once."""
    out = tmp_path / "result.json"
    assert bench_main.main(["--quick", "--only", "burst", "--backends", "sqlite", "--json", str(out)]) == 0
    [row] = json.loads(out.read_text())["rows"]
    assert (row["figures"]["missing"], row["figures"]["duplicates"]) == (0, 0)
    assert "| 4 burst drain under rate limits | sqlite |" in capsys.readouterr().out


def test_quick_fanout_drains_a_broadcast_through_each_platforms_real_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--quick --only fanout`` on SQLite: a row per platform, every notice arrived once and every staff reply too."""
    out = tmp_path / "result.json"
    assert bench_main.main(["--quick", "--only", "fanout", "--backends", "sqlite", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [row["result"].split(":")[0] for row in rows] == ["Telegram 400", "Discord 400"]
    for row in rows:
        figures = row["figures"]
        assert (figures["missing"], figures["duplicates"], figures["failed"]) == (0, 0, 0), row["result"]
        assert figures["replies"] == fanout.REPLIES, row["result"]
    printed = capsys.readouterr().out
    assert "| 8 broadcast fan-out | sqlite | Telegram 400: " in printed
    assert "| 8 broadcast fan-out | sqlite | Discord 400: " in printed
