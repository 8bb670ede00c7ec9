"""Choose the router's calibration on development cases, by the rule README states.

``python -m routing.calibrate --routing FILE --office CASES.csv ... --other CASES.csv ...``
takes two groups of case files: messages in the office language, and messages in
other languages. Each group calibrates its own weighing (``Calibration.office``,
``Calibration.other``) under its own misroute budget (``--office-budget``,
``--other-budget``, in percent). The rule (``margin_for`` and ``choose``), per group: every
setting of a coarse grid of weights gets the smallest margin at which the set's
misroute rate, with a one-sided confidence bound (Wilson, one standard error above
the rate measured), stays within the set's budget (a percentage); of the settings,
the one that routes the most cases as expected wins (ties: the larger margin,
then the smaller bonus). Run it on your own development cases, never on the
cases you report.

``--office-pooled`` keeps the office group to the pooled weighing (README says why)
and grids, besides its bonus and how many closest texts count, the weight of the
English word vectors' likeness (``WORDING_WEIGHTS``). For the setting chosen, it
then gives ``Calibration.sure_by_wording`` by its own rule (``sure_by_wording_for``):
the smallest lead (steps of 0.05) at which every office case that keywords and
wording alone would decide is decided exactly as the whole router decides it.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from config.routing_file import load_routing
from routing.encoder import SentenceEncoder, load_encoder, load_word_encoder
from routing.language import LanguageIdentifier
from routing.meaning import Calibration, Weighing
from routing.router import Router, identifiable_languages

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from config.routing_file import RoutingConfig

#: The grid: keyword bonus, weights of the keywords' and the names' likeness, how many closest examples count.
BONUSES = (0.05, 0.1, 0.2)
KEYWORD_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0)
NAME_WEIGHTS = (0.0, 0.25, 0.5, 0.75)
LIKENESS_OF = (2, 3)

#: The weights of the word vectors' likeness tried for a pooled office group.
WORDING_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0)

#: Margins tried, in steps of 0.01.
MARGINS = tuple(round(step / 100, 2) for step in range(1, 41))

#: Leads tried for deciding by keywords and wording alone, in steps of 0.05.
SURE_LEADS = tuple(round(step / 20, 2) for step in range(1, 41))

#: The confidence bound on a misroute rate: this many standard errors above the rate measured (Wilson).
BOUND_Z = 1.0


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
    """One setting of the grid, at its chosen margin, and its outcome on its group's case set."""

    weighing: Weighing
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Ranked:
    """One case as the router ranks it: the department expected, the best one and its lead over the runner-up."""

    expected: str
    best: str | None
    lead: float


def misroute_bound(misrouted: int, total: int, z: float = BOUND_Z) -> float:
    """The Wilson score bound ``z`` standard errors above the misroute rate measured, in percent."""
    if total == 0:
        return 0.0
    rate = misrouted / total
    spread = z * math.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total))
    return 100 * (rate + z * z / (2 * total) + spread) / (1 + z * z / total)


def margin_for(ranked: Sequence[Ranked], budget: float) -> tuple[float, Outcome] | None:
    """The smallest margin at which these cases' misroute bound stays within ``budget``, and the outcome."""
    for margin in MARGINS:
        decided = [(case.best if case.lead >= margin else None, case.expected) for case in ranked]
        outcome = Outcome(
            expected=sum(got == want for got, want in decided),
            asked=sum(got is None for got, _ in decided),
            misrouted=sum(got not in {None, want} for got, want in decided),
        )
        if misroute_bound(outcome.misrouted, outcome.total) <= budget:
            return margin, outcome
    return None


def choose(trials: Sequence[Trial]) -> Trial | None:
    """Of the settings (each at its smallest margin within budget), the one that routes the most as expected."""
    if not trials:
        return None
    return max(
        trials,
        key=lambda trial: (trial.outcome.expected, trial.weighing.unsure_margin, -trial.weighing.keyword_bonus),
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


def rank(router: Router, cases: Sequence[tuple[str, str]]) -> list[Ranked]:
    """Each case's best department and lead (infinite when the margin plays no part in its decision)."""
    ranked = []
    for text, department in cases:
        _, scores = router.ranking(text)
        if len(scores) >= 2:  # noqa: PLR2004 - a lead needs a runner-up
            ranked.append(Ranked(department, scores[0][0], scores[0][1] - scores[1][1]))
        else:
            ranked.append(Ranked(department, router.route(text).department, math.inf))
    return ranked


def grid(*, pooled: bool) -> list[Weighing]:
    """The settings tried (margins still 0): the channels' grid, or the pooled one with the word vectors' weight."""
    if pooled:
        return [
            Weighing(bonus, 0.0, likeness_of, pooled=True, wording_weight=wording)
            for bonus, likeness_of, wording in itertools.product(BONUSES, LIKENESS_OF, WORDING_WEIGHTS)
        ]
    return [
        Weighing(bonus, 0.0, likeness_of, keyword_weight, name_weight)
        for bonus, keyword_weight, name_weight, likeness_of in itertools.product(
            BONUSES, KEYWORD_WEIGHTS, NAME_WEIGHTS, LIKENESS_OF
        )
    ]


def run_grid(
    config: RoutingConfig,
    encoder: SentenceEncoder,
    case_set: CaseSet,
    *,
    settings: Sequence[Weighing],
    word_encoder: SentenceEncoder | None = None,
) -> list[Trial]:
    """Each setting at its smallest margin within ``case_set``'s budget (settings with none left out)."""
    identifier = LanguageIdentifier(identifiable_languages(config))
    trials: list[Trial] = []
    for weighing in settings:
        calibration = Calibration(office=weighing, other=weighing, sure_by_wording=None)
        router = Router(
            config, encoder=encoder, word_encoder=word_encoder, identifier=identifier, calibration=calibration
        )
        chosen = margin_for(rank(router, case_set.cases), case_set.budget)
        if chosen is not None:
            margin, outcome = chosen
            trials.append(Trial(replace(weighing, unsure_margin=margin), outcome))
    return trials


def sure_by_wording_for(
    config: RoutingConfig, encoder: SentenceEncoder, word_encoder: SentenceEncoder, office: Weighing, case_set: CaseSet
) -> float | None:
    """The smallest lead at which deciding by keywords and wording alone never differs from the whole router here."""
    identifier = LanguageIdentifier(identifiable_languages(config))

    def router(sure: float | None) -> Router:
        calibration = Calibration(office=office, sure_by_wording=sure)
        return Router(
            config, encoder=encoder, word_encoder=word_encoder, identifier=identifier, calibration=calibration
        )

    whole = [decision.department for decision in router(None).route_all([(text, None) for text, _ in case_set.cases])]
    for lead in SURE_LEADS:
        decided = router(lead).route_all([(text, None) for text, _ in case_set.cases])
        if [decision.department for decision in decided] == whole:
            return lead
    return None


def read_set(paths: Sequence[Path], budget: float) -> CaseSet:
    """The cases (text, department) of these CSV files, with their misroute budget in percent."""
    cases: list[tuple[str, str]] = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as file:
            cases.extend((row["text"], row["department"]) for row in csv.DictReader(file))
    return CaseSet(" + ".join(path.name for path in paths), tuple(cases), budget)


def _shown(weighing: Weighing) -> str:
    w = weighing
    if w.pooled:
        return (
            f"Weighing(keyword_bonus={w.keyword_bonus}, unsure_margin={w.unsure_margin}, likeness_of={w.likeness_of}, "
            f"pooled=True, wording_weight={w.wording_weight})"
        )
    return (
        f"Weighing(keyword_bonus={w.keyword_bonus}, unsure_margin={w.unsure_margin}, likeness_of={w.likeness_of}, "
        f"keyword_weight={w.keyword_weight}, name_weight={w.name_weight})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print each group's grid results and the setting the rule chooses for it."""
    parser = argparse.ArgumentParser(prog="python -m routing.calibrate", description=__doc__)
    parser.add_argument("--routing", type=Path, required=True, help="the routing file the cases were written for")
    parser.add_argument("--office", type=Path, action="append", required=True, help="cases in the office language")
    parser.add_argument("--other", type=Path, action="append", required=True, help="cases in other languages")
    parser.add_argument("--office-budget", type=float, default=3.0, help="misroute budget %% (default 3)")
    parser.add_argument("--other-budget", type=float, default=5.0, help="misroute budget %% (default 5)")
    parser.add_argument("--office-pooled", action="store_true", help="office group: the pooled weighing's grid")
    args = parser.parse_args(argv)
    config = load_routing(args.routing)
    encoder = _Remembering(load_encoder())
    word_encoder = load_word_encoder(config.office_language)
    words = _Remembering(word_encoder) if word_encoder is not None else None
    out = sys.stdout
    code = 0
    groups = (
        ("office", args.office, args.office_budget, grid(pooled=args.office_pooled)),
        ("other", args.other, args.other_budget, grid(pooled=False)),
    )
    for group, paths, budget, settings in groups:
        case_set = read_set(paths, budget)
        trials = run_grid(config, encoder, case_set, settings=settings, word_encoder=words)
        for trial in trials:
            o = trial.outcome
            out.write(
                f"{group} {_shown(trial.weighing)}: {o.expected}/{o.total} as expected, {o.misrouted} misrouted\n"
            )
        chosen = choose(trials)
        if chosen is None:
            out.write(f"{group}: no setting keeps {case_set.name} within its misroute budget\n")
            code = 1
            continue
        o = chosen.outcome
        out.write(
            f"chosen {group}={_shown(chosen.weighing)}: {case_set.name} {o.expected}/{o.total} as expected, "
            f"{o.asked} asked, {o.misrouted} misrouted\n"
        )
        if group == "office" and words is not None and chosen.weighing.wording_weight:
            sure = sure_by_wording_for(config, encoder, words, chosen.weighing, case_set)
            out.write(f"chosen sure_by_wording={sure}: keywords and wording alone decide as the whole router here\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
