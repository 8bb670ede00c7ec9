"""The rule that chooses the router's calibration on development cases."""

from __future__ import annotations

from routing.calibrate import CaseSet, Outcome, Trial, choose
from routing.router import Calibration

SETS = (CaseSet("en", (), 3.0), CaseSet("other", (), 5.0))


def trial(bonus: float, margin: float, en: tuple[int, int], other: tuple[int, int]) -> Trial:
    """A setting whose two sets of 100 cases gave (expected, misrouted); the rest were asked."""
    outcomes = tuple(Outcome(expected, 100 - expected - misrouted, misrouted) for expected, misrouted in (en, other))
    return Trial(Calibration(keyword_bonus=bonus, unsure_margin=margin), outcomes)


def test_a_setting_over_any_misroute_budget_is_never_chosen() -> None:
    """More expected routes do not buy a setting that misroutes beyond a set's budget."""
    over = trial(0.1, 0.02, (95, 4), (90, 1))
    within = trial(0.1, 0.04, (80, 3), (80, 5))
    assert choose([over, within], SETS) == within


def test_the_smallest_margin_within_budget_is_taken_per_bonus() -> None:
    """Of two margins within budget for one bonus, the smaller one (which asks less) is chosen."""
    smaller = trial(0.1, 0.04, (80, 2), (80, 2))
    larger = trial(0.1, 0.06, (85, 1), (85, 1))
    assert choose([larger, smaller], SETS) == smaller


def test_between_bonuses_the_most_routed_as_expected_wins() -> None:
    """Each bonus's smallest margin within budget competes on cases routed as expected."""
    weaker = trial(0.1, 0.04, (80, 2), (80, 2))
    stronger = trial(0.2, 0.06, (85, 2), (84, 2))
    assert choose([weaker, stronger], SETS) == stronger


def test_no_setting_within_budget_chooses_nothing() -> None:
    """When every setting misroutes too much, the rule says so instead of picking the least bad."""
    assert choose([trial(0.1, 0.02, (90, 9), (90, 9))], SETS) is None
