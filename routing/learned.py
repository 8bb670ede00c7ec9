"""What staff taught the router: labelled examples, how the router decides them today, and a YAML snippet.

A transfer (the department that finally took a case) and a citizen's menu
choice each label the case's first message. ``review`` routes each example
with today's router; ``examples_snippet`` renders the ones worth adding as
``examples:`` entries an admin pastes into the routing file (``civic-bridge
routes learned`` prints both).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from collections.abc import Sequence

    from config.routing_file import RoutingConfig
    from routing.router import LearnedExample, Router


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A learned example with today's decision: ``outcome`` is "expected", "asked" or "misrouted"."""

    example: LearnedExample
    decided: str | None
    outcome: str


def review(examples: Sequence[LearnedExample], router: Router) -> list[Reviewed]:
    """Route each example's text with ``router`` and say how today's decision compares with the label."""
    reviewed: list[Reviewed] = []
    for example in examples:
        decided = router.route(example.text).department
        outcome = "asked" if decided is None else "expected" if decided == example.department else "misrouted"
        reviewed.append(Reviewed(example, decided, outcome))
    return reviewed


def examples_snippet(reviewed: Sequence[Reviewed], config: RoutingConfig) -> str:
    """Render the examples the router does not already route right as YAML to paste under each department.

    Examples already in the routing file, repeated texts and departments the
    file no longer has are left out; departments keep the file's order. An
    empty string means there is nothing to add.
    """
    known = {
        dept.key: {" ".join(example.split()).casefold() for example in dept.examples} for dept in config.departments
    }
    to_add: dict[str, list[str]] = defaultdict(list)
    for item in reviewed:
        key = item.example.department
        text = " ".join(item.example.text.split())
        folded = text.casefold()
        if item.outcome == "expected" or key not in known or not text or folded in known[key]:
            continue
        known[key].add(folded)
        to_add[key].append(text)
    blocks = []
    for dept in config.departments:
        if to_add[dept.key]:
            lines = "".join(f"      - {_scalar(text)}\n" for text in to_add[dept.key])
            blocks.append(f"  - key: {dept.key}\n    examples:  # add these to the department's examples\n{lines}")
    return "".join(blocks)


def _scalar(text: str) -> str:
    """One YAML scalar on one line, quoted only when YAML needs it."""
    dumped: str = yaml.safe_dump(text, allow_unicode=True, width=1_000_000, default_style=None)
    return dumped.removesuffix("\n...\n").removesuffix("\n")
