"""Choose the router's calibration on development cases, by the rule README states.

``python -m routing.calibrate --routing FILE CASES.csv:BUDGET ...`` routes every
case set under each setting of a coarse grid and prints the results. The rule
(``choose``): each case set's misroute budget (a percentage) is a hard limit;
among the settings every set keeps within budget, take for each keyword bonus
the smallest margin, and of those the setting that routes the most cases as
expected (ties: the smaller margin, then the smaller bonus). Run it on your own
held-out cases, never on the cases you report.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from config.routing_file import load_routing
from routing.encoder import SentenceEncoder, load_encoder
from routing.language import LanguageIdentifier
from routing.router import Calibration, Router

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

#: The grid: keyword bonus, margin (steps of 0.02), how many closest texts make a likeness.
BONUSES = (0.1, 0.15, 0.2, 0.3)
MARGINS = (0.02, 0.04, 0.06, 0.08, 0.1)
LIKENESS_OF = (1, 2)


@dataclass(frozen=True, slots=True)
class CaseSet:
    """Development cases (text, department) and the share of them that may be misrouted, in percent."""

    name: str
    cases: tuple[tuple[str, str], ...]
    budget: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one setting did on one case set."""

    expected: int
    asked: int
    misrouted: int

    @property
    def total(self) -> int:
        """Cases routed."""
        return self.expected + self.asked + self.misrouted


@dataclass(frozen=True, slots=True)
class Trial:
    """One setting of the grid and its outcome per case set (in the order given)."""

    calibration: Calibration
    outcomes: tuple[Outcome, ...]


def within_budget(trial: Trial, sets: Sequence[CaseSet]) -> bool:
    """Tell whether every case set's misroutes stay within its budget."""
    return all(
        outcome.misrouted * 100 <= case_set.budget * outcome.total
        for outcome, case_set in zip(trial.outcomes, sets, strict=True)
    )


def choose(trials: Sequence[Trial], sets: Sequence[CaseSet]) -> Trial | None:
    """The rule: within every budget, the smallest margin per bonus and likeness, then the most routed as expected."""
    allowed = [trial for trial in trials if within_budget(trial, sets)]
    smallest: dict[tuple[float, int], Trial] = {}
    for trial in allowed:
        group = (trial.calibration.keyword_bonus, trial.calibration.likeness_of)
        if group not in smallest or trial.calibration.unsure_margin < smallest[group].calibration.unsure_margin:
            smallest[group] = trial
    if not smallest:
        return None
    return max(
        smallest.values(),
        key=lambda trial: (
            sum(outcome.expected for outcome in trial.outcomes),
            -trial.calibration.unsure_margin,
            -trial.calibration.keyword_bonus,
        ),
    )


class _Remembering:
    """An encoder that embeds each text once: the grid routes the same cases many times."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self._encoder = encoder
        self._seen: dict[str, NDArray[np.float32]] = {}

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        missing = [text for text in dict.fromkeys(texts) if text not in self._seen]
        if missing:
            self._seen.update(zip(missing, self._encoder.encode(missing), strict=True))
        return np.stack([self._seen[text] for text in texts])


def run_grid(routing: Path, sets: Sequence[CaseSet]) -> list[Trial]:
    """Route every case set under every setting of the grid."""
    config = load_routing(routing)
    encoder = _Remembering(load_encoder())
    identifier = LanguageIdentifier(config.languages)
    trials: list[Trial] = []
    for bonus, margin, likeness_of in itertools.product(BONUSES, MARGINS, LIKENESS_OF):
        calibration = Calibration(keyword_bonus=bonus, unsure_margin=margin, likeness_of=likeness_of)
        router = Router(config, encoder=encoder, identifier=identifier, calibration=calibration)
        outcomes = []
        for case_set in sets:
            decided = [(router.route(text).department, department) for text, department in case_set.cases]
            outcomes.append(
                Outcome(
                    expected=sum(got == want for got, want in decided),
                    asked=sum(got is None for got, _ in decided),
                    misrouted=sum(got not in {None, want} for got, want in decided),
                ),
            )
        trials.append(Trial(calibration, tuple(outcomes)))
    return trials


def read_set(argument: str) -> CaseSet:
    """``CASES.csv:BUDGET`` → the cases and their misroute budget in percent."""
    path, _, budget = argument.rpartition(":")
    with Path(path).open(encoding="utf-8", newline="") as file:
        cases = tuple((row["text"], row["department"]) for row in csv.DictReader(file))
    return CaseSet(Path(path).name, cases, float(budget))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the grid's results and the setting the rule chooses."""
    parser = argparse.ArgumentParser(prog="python -m routing.calibrate", description=__doc__)
    parser.add_argument("--routing", type=Path, required=True, help="the routing file the cases were written for")
    parser.add_argument("sets", nargs="+", metavar="CASES.csv:BUDGET", help="development cases and misroute budget %%")
    args = parser.parse_args(argv)
    sets = [read_set(argument) for argument in args.sets]
    trials = run_grid(args.routing, sets)
    out = sys.stdout
    for trial in trials:
        c = trial.calibration
        results = "  ".join(
            f"{case_set.name} {o.expected}/{o.total} as expected, {o.misrouted} misrouted"
            for case_set, o in zip(sets, trial.outcomes, strict=True)
        )
        mark = "ok " if within_budget(trial, sets) else "   "
        out.write(f"{mark}bonus {c.keyword_bonus:.2f} margin {c.unsure_margin:.2f} of {c.likeness_of}: {results}\n")
    chosen = choose(trials, sets)
    if chosen is None:
        out.write("no setting keeps every set within its misroute budget\n")
        return 1
    c = chosen.calibration
    out.write(f"chosen: keyword_bonus={c.keyword_bonus} unsure_margin={c.unsure_margin} likeness_of={c.likeness_of}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
