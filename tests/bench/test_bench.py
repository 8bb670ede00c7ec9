"""The benchmark's plumbing: the command runs, prints one row per measurement and backend, and writes JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench import __main__ as bench_main
from bench import fanout
from bench.common import Options, Row, percentile
from bench.core import RoutedOnce
from bench.table import markdown
from tests.fakes import FakeDecision, KeywordRouter

if TYPE_CHECKING:
    from collections.abc import Sequence


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


class CountingRouter(KeywordRouter):
    """The keyword router, noting every question it is asked."""

    def __init__(self) -> None:
        super().__init__({"pothole": "roads", "bin": "waste"}, "general")
        self.asked: list[tuple[str, str | None]] = []

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> list[FakeDecision]:
        """Note the questions, then decide as the keyword router does."""
        self.asked.extend(questions)
        return super().route_all(questions)


def test_routing_apart_asks_the_router_once_per_distinct_first_text() -> None:
    """Row 1b's router decides as the real one would, but encodes each distinct first text only once."""
    router = CountingRouter()
    once = RoutedOnce(router)
    questions = [("A pothole on my road", "en"), ("My bin was not emptied", "en"), ("A pothole on my road", "en")]
    first, again = once.route_all(questions), [once.route(text, language=language) for text, language in questions]
    assert [d.department for d in first] == [d.department for d in again] == ["roads", "waste", "roads"]
    assert router.asked == [("A pothole on my road", "en"), ("My bin was not emptied", "en")]
