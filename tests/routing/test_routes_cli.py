from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.routes_cli import register
from config.routing_file import RoutingConfig
from routing.router import Router, build_router
from tests.routing.sample import ROUTING

SHARED_ROUTING = Path(__file__).resolve().parents[2].parent / "shared/data/routing"
SUMMARY = re.compile(r"routed as expected: (\d+)/(\d+) \((\d+)%\), asked citizen: (\d+), misrouted: (\d+)")


def keyword_router(config: RoutingConfig) -> Router:
    """The router without its sentence encoder: predictable figures for the command's own behaviour."""
    return Router(config, encoder=None)


def run(
    argv: list[str],
    *,
    default_routing: Path,
    make_router: Callable[[RoutingConfig], Router] = keyword_router,
) -> int:
    """Parse ``argv`` as the main CLI would after ``register`` and run the chosen command."""
    parser = argparse.ArgumentParser(prog="civic-bridge")
    register(
        parser.add_subparsers(dest="command", required=True),
        default_routing=lambda: default_routing,
        make_router=make_router,
    )
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


def test_test_exits_1_below_the_minimum_expected(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--min-expected 60`` fails a run that routes 50% as expected, and the summary stays the last line."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nHello,roads\n")
    argv = ["routes", "test", "--min-expected", "60", "--routing", str(routing), str(cases)]
    assert run(argv, default_routing=routing) == 1
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "falls short: routed as expected 50.0% < --min-expected 60%",
        "routed as expected: 1/2 (50%), asked citizen: 0, misrouted: 1",
    ]


def test_test_exits_1_above_the_maximum_misrouted(routing: Path, tmp_path: Path) -> None:
    """``--max-misrouted 10`` fails a run that misroutes one case in two."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nHello,roads\n")
    argv = ["routes", "test", "--max-misrouted", "10", "--routing", str(routing), str(cases)]
    assert run(argv, default_routing=routing) == 1


def test_test_exits_0_when_both_percentages_are_met(routing: Path, tmp_path: Path) -> None:
    """A run at 50% as expected and 50% misrouted passes ``--min-expected 50 --max-misrouted 50``."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\nHello,roads\n")
    argv = ["routes", "test", "--min-expected", "50", "--max-misrouted", "50", "--routing", str(routing), str(cases)]
    assert run(argv, default_routing=routing) == 0


def test_test_rejects_a_percentage_out_of_range(routing: Path, tmp_path: Path) -> None:
    """``--min-expected 150`` is a usage error, not a run."""
    cases = write_cases(tmp_path, "text,department\nA pothole,roads\n")
    with pytest.raises(SystemExit):
        run(["routes", "test", "--min-expected", "150", "--routing", str(routing), str(cases)], default_routing=routing)


def test_test_names_the_line_of_an_unclosed_quote(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A quote never closed is reported at the line it opens, not as an unknown department ''."""
    cases = write_cases(tmp_path, 'text,department\nA pothole,roads\n"Rubbish everywhere,waste\nA tree,parks\n')
    assert run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{cases}:3: ")
    assert "department ''" not in out


def test_test_names_the_line_of_text_after_a_closing_quote(
    routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Text after a closing quote (a quote not doubled) is a broken CSV at its line, with the fix."""
    cases = write_cases(tmp_path, 'text,department\nA pothole,roads\n"The sign says "closed" again",roads\n')
    assert run(["routes", "test", "--routing", str(routing), str(cases)], default_routing=routing) == 1
    assert capsys.readouterr().out.startswith(f"{cases}:3: broken CSV")


def test_explain_names_the_identified_language(routing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``routes explain`` says which language it identified in the message."""
    text = "Il y a un nid-de-poule énorme devant chez moi"
    run(["routes", "explain", "--routing", str(routing), text], default_routing=routing, make_router=build_router)
    assert "language: fr" in capsys.readouterr().out.splitlines()


def test_test_with_learned_examples_routes_like_them(
    routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``routes test --learned`` routes as if staff had confirmed those examples, and says so above the table."""
    cases = write_cases(tmp_path, "text,department\nThere is new graffiti in the underpass by the station,roads\n")
    learned = tmp_path / "learned.csv"
    learned.write_text("text,department\nSomeone sprayed graffiti all over the underpass,roads\n", encoding="utf-8")
    argv = ["routes", "test", "--routing", str(routing), "--learned", str(learned), str(cases)]
    assert run(argv, default_routing=routing, make_router=build_router) == 0
    out = capsys.readouterr().out.splitlines()
    assert (out[0], out[-1]) == (
        f"with 1 confirmed examples from {learned}",
        "routed as expected: 1/1 (100%), asked citizen: 0, misrouted: 0",
    )


def shared_summary(cases: str, *, learned: Path | None = None) -> tuple[int, int, int, int]:
    """Run the shared routing.yaml over a shared cases file: (expected, total, asked, misrouted)."""
    if not (SHARED_ROUTING / cases).is_file():
        pytest.skip(f"the shared routing data is not at {SHARED_ROUTING}")
    routing = SHARED_ROUTING / "routing.yaml"
    argv = ["routes", "test", "--routing", str(routing), str(SHARED_ROUTING / cases)]
    if learned is not None:
        argv[2:2] = ["--learned", str(learned)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        run(argv, default_routing=routing, make_router=build_router)
    match = SUMMARY.fullmatch(printed.getvalue().splitlines()[-1])
    assert match is not None
    expected, total, _, asked, misrouted = (int(group) for group in match.groups())
    return expected, total, asked, misrouted


@pytest.fixture(scope="module")
def shared_english() -> tuple[int, int, int, int]:
    """The shared English cases (cases.csv) through the bridge's router."""
    return shared_summary("cases.csv")


@pytest.fixture(scope="module")
def shared_multilingual() -> tuple[int, int, int, int]:
    """The shared cases in nine other languages (cases-multilingual.csv) through the bridge's router."""
    return shared_summary("cases-multilingual.csv")


def test_shared_english_cases_misroute_at_most_three_percent(shared_english: tuple[int, int, int, int]) -> None:
    """On the shared English data at most 3% of cases reach a wrong department (the issue's target)."""
    _, total, _, misrouted = shared_english
    assert misrouted * 100 <= 3 * total


def test_shared_multilingual_cases_misroute_at_most_five_percent(
    shared_multilingual: tuple[int, int, int, int],
) -> None:
    """On the shared cases in other languages at most 5% reach a wrong department (the issue's target)."""
    _, total, _, misrouted = shared_multilingual
    assert misrouted * 100 <= 5 * total


def test_shared_english_cases_route_at_least_seventy_five_percent_as_expected(
    shared_english: tuple[int, int, int, int],
) -> None:
    """On the shared English data at least 75% are routed as expected (today's level: a regression guard)."""
    expected, total, _, _ = shared_english
    assert expected * 100 >= 75 * total


def test_shared_multilingual_cases_route_at_least_seventy_five_percent_as_expected(
    shared_multilingual: tuple[int, int, int, int],
) -> None:
    """On the shared cases in other languages at least 75% are routed as expected (today's level: a guard)."""
    expected, total, _, _ = shared_multilingual
    assert expected * 100 >= 75 * total


@pytest.mark.xfail(strict=True, reason="target not met yet: 69/90 (76%) as expected; the rest are asked, 1 misrouted")
def test_shared_english_cases_route_at_least_ninety_percent_as_expected(
    shared_english: tuple[int, int, int, int],
) -> None:
    """On the shared English data at least 90% of cases are routed as expected (the issue's target)."""
    expected, total, _, _ = shared_english
    assert expected * 100 >= 90 * total


@pytest.mark.xfail(strict=True, reason="target not met yet: 42/54 (77%) as expected; the rest are asked, 0 misrouted")
def test_shared_multilingual_cases_route_at_least_eighty_percent_as_expected(
    shared_multilingual: tuple[int, int, int, int],
) -> None:
    """On the shared cases in other languages at least 80% are routed as expected (the issue's target)."""
    expected, total, _, _ = shared_multilingual
    assert expected * 100 >= 80 * total


def test_after_learning_our_own_multilingual_cases_the_shared_ones_route_no_worse(
    shared_multilingual: tuple[int, int, int, int],
) -> None:
    """Taught our multilingual dev cases as confirmed examples, the router routes at least as many as expected."""
    learned = Path(__file__).resolve().parent / "dev_cases_multilingual.csv"
    expected, total, _, misrouted = shared_summary("cases-multilingual.csv", learned=learned)
    assert (expected >= shared_multilingual[0], misrouted * 100 <= 5 * total) == (True, True)
