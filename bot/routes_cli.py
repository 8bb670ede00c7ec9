"""The ``routes`` command: check a routing file, explain one routing decision, test a CSV of cases."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.storage.learned import LabelledCase
from bot.storage.store import Store, Tx
from config.answers_file import answers_path, load_answers
from config.routing_file import Learning, RoutingConfig, RoutingFileError, load_routing
from config.settings import load_settings
from routing.learned import examples_snippet, review
from routing.router import Decision, LearnedExample, Router, build_router

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: Longest citizen text shown in a line of the ``routes test`` report.
_SHOWN_TEXT = 70

_REQUIRED_COLUMNS = ("text", "department")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    default_routing: Callable[[], Path],
    make_router: Callable[[RoutingConfig], Router] = build_router,
    labelled: Callable[[], Sequence[LabelledCase]] | None = None,
) -> None:
    """Add ``routes check|explain|test|learned``; each sets ``func(args) -> exit code`` on the namespace.

    ``make_router`` builds the router from a routing file (the bridge's own by default);
    ``labelled`` reads the labelled cases (from ``BRIDGE_DATABASE_URL`` by default).
    """
    routes = subparsers.add_parser("routes", help="check, explain and test the routing file")
    commands = routes.add_subparsers(dest="routes_command", metavar="{check,explain,test,learned}", required=True)
    routing_help = "the routing file (default: BRIDGE_ROUTING_FILE, else config/routing.yaml or the built-in example)"

    check = commands.add_parser("check", help="validate a routing file and list every problem")
    check.add_argument("--routing", type=Path, help=routing_help)
    check.set_defaults(func=lambda args: check_routing(_routing_path(args, default_routing)))

    explain = commands.add_parser("explain", help="show where a message would be routed, and why")
    explain.add_argument("--routing", type=Path, help=routing_help)
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.add_argument(
        "--language",
        help="the citizen's platform language, such as en or pl: used when the text is too short to tell",
    )
    explain.add_argument("text", metavar="TEXT", help="the citizen's first message")
    explain.set_defaults(
        func=lambda args: explain_text(
            _routing_path(args, default_routing),
            args.text,
            as_json=args.json,
            language=args.language,
            make_router=make_router,
        ),
    )

    test = commands.add_parser("test", help="route a CSV of text,department cases and count the results")
    test.add_argument("--routing", type=Path, help=routing_help)
    test.add_argument(
        "--min-expected",
        type=_percent,
        metavar="P",
        help="exit 1 when fewer than P%% of the cases are routed as expected",
    )
    test.add_argument(
        "--max-misrouted",
        type=_percent,
        metavar="P",
        help="exit 1 when more than P%% of the cases are misrouted",
    )
    test.add_argument(
        "--learned",
        type=Path,
        metavar="EXAMPLES.csv",
        help="route as if staff had confirmed these text,department examples (learning.use_confirmed_examples on)",
    )
    test.add_argument("cases", metavar="CASES.csv", type=Path, help="a CSV file with columns text,department")
    test.set_defaults(
        func=lambda args: run_cases(
            _routing_path(args, default_routing),
            args.cases,
            min_expected=args.min_expected,
            max_misrouted=args.max_misrouted,
            make_router=make_router,
            learned_path=args.learned,
        ),
    )

    learned = commands.add_parser(
        "learned",
        help="list what staff transfers and menu choices taught, how the routing file decides it, and a YAML snippet",
    )
    learned.add_argument("--routing", type=Path, help=routing_help)
    learned.set_defaults(
        func=lambda args: show_learned(
            _routing_path(args, default_routing),
            (labelled or _labelled_in_database)(),
            make_router=make_router,
        ),
    )


def _percent(value: str) -> float:
    try:
        percent = float(value.removesuffix("%"))
    except ValueError:
        percent = -1.0
    if not 0 <= percent <= 100:  # noqa: PLR2004 - a percentage
        msg = f"a percentage from 0 to 100 is needed, such as 90 (got {value!r})"
        raise argparse.ArgumentTypeError(msg)
    return percent


def _routing_path(args: argparse.Namespace, default_routing: Callable[[], Path]) -> Path:
    routing: Path | None = args.routing
    return routing if routing is not None else default_routing()


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _load(path: Path) -> RoutingConfig | None:
    """Load the routing file, or print every problem and return None."""
    try:
        return load_routing(path)
    except RoutingFileError as error:
        for problem in error.problems:
            _say(str(problem))
        return None


def check_routing(path: Path) -> int:
    """Validate a routing file: 0 with a summary, or 1 with every problem as ``FILE:LINE: message``."""
    config = _load(path)
    if config is None:
        return 1
    answers_file = answers_path(path)
    try:
        answers = load_answers(answers_file, config)
    except RoutingFileError as error:
        for problem in error.problems:
            _say(str(problem))
        return 1
    _say(f"{path}: OK, {len(config.departments)} departments, fallback {config.fallback}")
    if answers.answers:
        _say(f"{answers_file}: OK, {len(answers.answers)} saved answers")
    return 0


def explain_text(
    path: Path,
    text: str,
    *,
    as_json: bool = False,
    language: str | None = None,
    make_router: Callable[[RoutingConfig], Router] = build_router,
) -> int:
    """Print where ``text`` would be routed, the confidence and the reason."""
    config = _load(path)
    if config is None:
        return 1
    decision = make_router(config).route(text, language=language)
    names = {dept.key: dept.name for dept in config.departments}
    if as_json:
        _say(
            json.dumps(
                {
                    "department": decision.department,
                    "department_name": names.get(decision.department or ""),
                    "confidence": decision.confidence,
                    "reason": decision.reason,
                    "candidates": list(decision.candidates),
                    "language": decision.language,
                },
                ensure_ascii=False,
            ),
        )
        return 0
    if decision.department is None:
        offered = ", ".join(f"{key} ({names[key]})" for key in decision.candidates)
        _say(f"department: unsure, the citizen chooses among {offered} or Other ({config.fallback})")
    else:
        _say(f"department: {decision.department} ({names[decision.department]})")
    _say(f"confidence: {decision.confidence:.2f}")
    if decision.language is not None:
        _say(f"language: {decision.language}")
    _say(f"reason: {decision.reason}")
    return 0


@dataclass(frozen=True, slots=True)
class _Case:
    line: int
    text: str
    department: str


class _CasesError(Exception):
    """A cases file that cannot be used; the message names the file, line and fix."""


def _read_cases(path: Path, known: Sequence[str]) -> list[_Case]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.DictReader(file, strict=True)
            columns = reader.fieldnames or []
            missing = [column for column in _REQUIRED_COLUMNS if column not in columns]
            if missing:
                found = ", ".join(columns) if columns else "nothing"
                msg = (
                    f"{path}:1: the header must name the columns text,department; "
                    f"missing {', '.join(missing)} (found: {found})"
                )
                raise _CasesError(msg)
            rows = _rows(path, reader)
    except OSError as error:
        msg = f"{path}: cannot read the cases file: {error.strerror or error}"
        raise _CasesError(msg) from error
    except (UnicodeDecodeError, csv.Error) as error:
        msg = f"{path}: not a UTF-8 CSV file ({error}): save it as CSV UTF-8"
        raise _CasesError(msg) from error

    cases: list[_Case] = []
    problems: list[str] = []
    for line, row in rows:
        text = (row.get("text") or "").strip()
        department = (row.get("department") or "").strip()
        if row.get(None):  # DictReader puts extra fields under the key None
            problems.append(
                f"{path}:{line}: more fields than text,department: put a text with commas in double quotes",
            )
        elif not text:
            problems.append(f"{path}:{line}: the text is empty: write the citizen's message or remove the row")
        elif department not in known:
            problems.append(
                f"{path}:{line}: department {department!r} is not in the routing file; use one of: {', '.join(known)}",
            )
        else:
            cases.append(_Case(line, text, department))
    if problems:
        raise _CasesError("\n".join(problems))
    if not cases:
        msg = f"{path}: no cases below the header: add rows of text,department"
        raise _CasesError(msg)
    return cases


def _rows(path: Path, reader: csv.DictReader[str]) -> list[tuple[int, dict[str | None, str]]]:
    """Read every row with the line it starts on; a broken quote is a ``FILE:LINE`` error, not a wrong row."""
    rows: list[tuple[int, dict[str | None, str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as error:
            msg = (
                f"{path}:{start}: broken CSV ({error}): a text with a comma, a quote or a line break must be in "
                'double quotes, and a quote inside it written twice ("")'
            )
            raise _CasesError(msg) from error
        if reader.line_num > start and not (row.get("department") or "").strip():
            msg = (
                f"{path}:{start}: a quote opened here is never closed, so lines {start}-{reader.line_num} read as "
                'one text: close the quote, or write a quote inside a text twice ("")'
            )
            raise _CasesError(msg)
        rows.append((start, row))


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN_TEXT else flat[: _SHOWN_TEXT - 1] + "…"


def run_cases(
    path: Path,
    cases_path: Path,
    *,
    min_expected: float | None = None,
    max_misrouted: float | None = None,
    make_router: Callable[[RoutingConfig], Router] = build_router,
    learned_path: Path | None = None,
) -> int:
    """Route every case, list the misses, print a per-department table and the summary line.

    Exit 0 when the cases ran and met ``min_expected``/``max_misrouted`` (percentages, when
    given), 1 when they fell short or the routing or cases file is unusable. ``learned_path``:
    a CSV of confirmed examples the router uses as if staff had taught them.
    """
    config = _load(path)
    if config is None:
        return 1
    try:
        cases = _read_cases(cases_path, config.department_keys)
        learned = _read_cases(learned_path, config.department_keys) if learned_path is not None else []
    except _CasesError as error:
        _say(str(error))
        return 1

    router = make_router(config)
    if learned:
        taught = config.model_copy(update={"learning": Learning(use_confirmed_examples=True)})
        router = router.reloaded(taught, learned=[LearnedExample(case.text, case.department) for case in learned])
        _say(f"with {len(learned)} confirmed examples from {learned_path}")
    outcomes: Counter[tuple[str, str]] = Counter()
    for case in cases:
        decision = router.route(case.text)
        outcome = _outcome(case, decision)
        outcomes[case.department, outcome] += 1
        if outcome != "expected":
            got = (
                f"asked citizen ({', '.join(decision.candidates)})"
                if decision.department is None
                else f"routed to {decision.department}"
            )
            _say(f"{cases_path}:{case.line}: expected {case.department}, {got}: {_shorten(case.text)}")

    _print_table(config, outcomes)
    total = len(cases)
    expected = sum(count for (_, outcome), count in outcomes.items() if outcome == "expected")
    asked = sum(count for (_, outcome), count in outcomes.items() if outcome == "asked")
    misrouted = sum(count for (_, outcome), count in outcomes.items() if outcome == "misrouted")
    # Rounded down, so 89.9% never shows as 90%.
    percent = expected * 100 // total
    short = []
    if min_expected is not None and expected * 100 < min_expected * total:
        short.append(f"routed as expected {expected * 100 / total:.1f}% < --min-expected {min_expected:g}%")
    if max_misrouted is not None and misrouted * 100 > max_misrouted * total:
        short.append(f"misrouted {misrouted * 100 / total:.1f}% > --max-misrouted {max_misrouted:g}%")
    if short:
        # Above the summary: the last line stays exactly as DESIGN.md says.
        _say("falls short: " + "; ".join(short))
    _say(f"routed as expected: {expected}/{total} ({percent}%), asked citizen: {asked}, misrouted: {misrouted}")
    return 1 if short else 0


def _outcome(case: _Case, decision: Decision) -> str:
    if decision.department is None:
        return "asked"
    return "expected" if decision.department == case.department else "misrouted"


def _print_table(config: RoutingConfig, outcomes: Counter[tuple[str, str]]) -> None:
    width = max(len("department"), *(len(key) for key in config.department_keys))
    _say()
    _say(f"{'department':<{width}}  {'cases':>5}  {'expected':>8}  {'asked':>5}  {'misrouted':>9}")
    for key in config.department_keys:
        expected, asked, misrouted = (outcomes[key, outcome] for outcome in ("expected", "asked", "misrouted"))
        cases = expected + asked + misrouted
        if cases:
            _say(f"{key:<{width}}  {cases:>5}  {expected:>8}  {asked:>5}  {misrouted:>9}")
    _say()


def _labelled_in_database() -> list[LabelledCase]:
    """The labelled cases in the bridge's database (``BRIDGE_DATABASE_URL``)."""
    return asyncio.run(read_labelled(load_settings().database_url))


async def read_labelled(database_url: str) -> list[LabelledCase]:
    """The labelled cases stored in the database at ``database_url``."""
    store = Store.open(database_url)

    async def read(tx: Tx) -> list[LabelledCase]:
        return await tx.labelled_cases()

    try:
        return await store.read(read)
    finally:
        await store.close()


def show_learned(
    path: Path,
    labelled: Sequence[LabelledCase],
    *,
    make_router: Callable[[RoutingConfig], Router] = build_router,
) -> int:
    """Print each learned example with how the routing file decides it today, then the YAML snippet to paste."""
    config = _load(path)
    if config is None:
        return 1
    if not labelled:
        _say("no learned examples yet: staff transfers and citizens' menu choices add them")
        return 0
    examples = [LearnedExample(item.text, item.department) for item in labelled]
    reviewed = review(examples, make_router(config))
    for item, case in zip(reviewed, labelled, strict=True):
        today = "asked citizen" if item.decided is None else item.decided
        _say(
            f"{case.labelled_at:%Y-%m-%d %H:%M} {case.source.value:<8} {case.department:<12} "
            f"today: {today} ({item.outcome}): {_shorten(case.text)}"
        )
    counts = Counter(item.outcome for item in reviewed)
    _say()
    _say(
        f"learned examples: {len(reviewed)}; the routing file today routes {counts['expected']} as labelled, "
        f"asks the citizen on {counts['asked']}, misroutes {counts['misrouted']}"
    )
    snippet = examples_snippet(reviewed, config)
    if not snippet:
        _say("nothing to add: the routing file already routes every learned example as labelled")
        return 0
    _say("examples to paste into the routing file (under each department's existing examples):")
    _say()
    _say(snippet.rstrip("\n"))
    return 0
