from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from bot.routes_cli import register
from tests.routing.sample import ROUTING

SHARED_ROUTING = Path(__file__).resolve().parents[2].parent / "shared/data/routing"
SUMMARY = re.compile(r"routed as expected: (\d+)/(\d+) \((\d+)%\), asked citizen: (\d+), misrouted: (\d+)")


def run(argv: list[str], *, default_routing: Path) -> int:
    """Parse ``argv`` as the main CLI would after ``register`` and run the chosen command."""
    parser = argparse.ArgumentParser(prog="civic-bridge")
    register(parser.add_subparsers(dest="command", required=True), default_routing=lambda: default_routing)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def routing(tmp_path: Path) -> Path:
    """A valid routing file with roads, waste, parks and the general fallback."""
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING, encoding="utf-8")
    return path


def write_cases(tmp_path: Path, text: str) -> Path:
    """Write a cases CSV and return its path."""
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_accepts_a_valid_file(routing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``routes check`` exits 0 on a valid file and says so."""
    assert run(["routes", "check", "--routing", str(routing)], default_routing=routing) == 0
    assert capsys.readouterr().out == f"{routing}: OK, 4 departments, fallback general\n"


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``routes check`` exits 1 and prints each problem as FILE:LINE: message."""
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING.replace("fallback: general", "fallback: nowhere\ncolour: red"), encoding="utf-8")
    assert run(["routes", "check", "--routing", str(path)], default_routing=path) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:1", f"{path}:2"]


def test_check_without_routing_option_uses_the_default(routing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without ``--routing`` the command checks the file ``default_routing()`` names."""
    assert run(["routes", "check"], default_routing=routing) == 0
    assert capsys.readouterr().out.startswith(f"{routing}: OK")


def test_explain_prints_department_confidence_and_reason(
    routing: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``routes explain`` prints the department, the confidence and the reason."""
    assert run(["routes", "explain", "--routing", str(routing), "A pothole again"], default_routing=routing) == 0
    assert capsys.readouterr().out.splitlines() == [
        "department: roads (Roads & Transport)",
        "confidence: 0.63",
        "reason: roads 3.0 (keywords 'pothole')",
    ]


def test_explain_json_is_one_object(routing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``routes explain --json`` prints one JSON object with the decision."""
    run(["routes", "explain", "--json", "--routing", str(routing), "A pothole"], default_routing=routing)
    decision = json.loads(capsys.readouterr().out)
    assert (decision["department"], decision["department_name"], decision["candidates"]) == (
        "roads",
        "Roads & Transport",
        [],
    )


def test_explain_unsure_names_the_choices(routing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """When unsure, explain says the citizen chooses, among which departments."""
    run(["routes", "explain", "--routing", str(routing), "A bin in the playground"], default_routing=routing)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "department: unsure, the citizen chooses among waste (Waste & Recycling), parks (Parks & Trees) "
        "or Other (general)"
    )


def test_test_ends_with_the_exact_summary_line(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``routes test`` ends with the summary: as expected, asked citizen, misrouted."""
    cases = write_cases(
        tmp_path,
        "text,department\n"
        "A pothole on my street,roads\n"
        "Rubbish everywhere,waste\n"
        '"A bin in the playground, overflowing",waste\n'
        "Hello is anyone there,roads\n",
    )
    assert run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "routed as expected: 2/4 (50%), asked citizen: 1, misrouted: 1"


def test_test_rounds_the_percentage_down(routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two of three is 66%, never 67%."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nRubbish,waste\nHello,roads\n")
    run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing)
    assert capsys.readouterr().out.splitlines()[-1].startswith("routed as expected: 2/3 (66%)")


def test_test_prints_a_row_per_department(routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table has a row for each department with cases: cases, expected, asked, misrouted."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nHello,roads\nRubbish,waste\n")
    run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing)
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith(("roads ", "waste "))]
    assert rows == [["roads", "2", "1", "0", "1"], ["waste", "1", "1", "0", "0"]]


def test_test_lists_each_case_not_routed_as_expected(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each miss is listed with its CSV line, what was expected and what happened."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nHello,roads\n")
    run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing)
    assert f"{cases}:3: expected roads, routed to general: Hello" in capsys.readouterr().out


def test_test_rejects_a_csv_without_the_columns(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A CSV without text and department columns is an error naming them, exit 1."""
    cases = write_cases(tmp_path, "message,team\nA pothole,roads\n")
    assert run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing) == 1
    assert "missing text, department (found: message, team)" in capsys.readouterr().out


def test_test_rejects_a_department_the_routing_does_not_have(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A case naming an unknown department is an error at its CSV line, exit 1."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nA fallen oak,trees\n")
    assert run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing) == 1
    assert capsys.readouterr().out.startswith(f"{cases}:3: department 'trees' is not in the routing file")


def test_test_with_a_bad_routing_file_lists_its_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``routes test`` on a broken routing file prints its problems and exits 1."""
    path = tmp_path / "routing.yaml"
    path.write_text("fallback: general\n", encoding="utf-8")
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\n")
    assert run(["routes", "test", "--routing", str(path), str(cases)], default_routing=path) == 1
    assert capsys.readouterr().out.startswith(f"{path}:1: 'departments' is missing")


@pytest.fixture
def shared_summary(capsys: pytest.CaptureFixture[str]) -> tuple[int, int, int, int]:
    """Run the shared routing.yaml over the shared cases.csv: (expected, total, asked, misrouted)."""
    if not (SHARED_ROUTING / "cases.csv").is_file():
        pytest.skip(f"the shared routing data is not at {SHARED_ROUTING}")
    routing = SHARED_ROUTING / "routing.yaml"
    run(["routes", "test", "--routing", str(routing), str(SHARED_ROUTING / "cases.csv")], default_routing=routing)
    match = SUMMARY.fullmatch(capsys.readouterr().out.splitlines()[-1])
    assert match is not None
    expected, total, _, asked, misrouted = (int(group) for group in match.groups())
    return expected, total, asked, misrouted


def test_shared_cases_misroute_at_most_five_percent(shared_summary: tuple[int, int, int, int]) -> None:
    """On the shared data at most 5% of cases reach a wrong department."""
    _, total, _, misrouted = shared_summary
    assert misrouted * 100 <= 5 * total


def test_shared_cases_route_at_least_eighty_five_percent_as_expected(
    shared_summary: tuple[int, int, int, int],
) -> None:
    """On the shared data at least 85% of cases are routed as expected (today's level: a regression guard)."""
    expected, total, _, _ = shared_summary
    assert expected * 100 >= 85 * total
