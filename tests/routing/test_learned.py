"""What ``routes learned`` shows: learned examples, today's decision, and a YAML snippet to paste."""

from __future__ import annotations

import yaml

from config.routing_file import load_routing_text
from routing.learned import Reviewed, examples_snippet, review
from routing.router import LearnedExample, Router
from tests.routing.sample import ROUTING

CONFIG = load_routing_text(ROUTING, "routing.yaml")


def reviewed(text: str, department: str, outcome: str) -> Reviewed:
    """A learned example as ``review`` would report it."""
    return Reviewed(LearnedExample(text, department), None, outcome)


def test_review_says_how_the_router_decides_each_example_today() -> None:
    """Each learned example is routed again: expected, asked or misrouted against its label."""
    router = Router(CONFIG, encoder=None)
    examples = [LearnedExample("A pothole again", "roads"), LearnedExample("A pothole again", "waste")]
    assert [item.outcome for item in review(examples, router)] == ["expected", "misrouted"]


def test_snippet_lists_examples_under_their_department_in_file_order() -> None:
    """The snippet groups new examples per department, in the routing file's order, as valid YAML."""
    snippet = examples_snippet(
        [
            reviewed("Graffiti under the bridge", "parks", "asked"),
            reviewed("Glass on the cycle lane", "roads", "asked"),
        ],
        CONFIG,
    )
    assert yaml.safe_load(snippet) == [
        {"key": "roads", "examples": ["Glass on the cycle lane"]},
        {"key": "parks", "examples": ["Graffiti under the bridge"]},
    ]


def test_snippet_leaves_out_what_the_router_already_routes_right() -> None:
    """An example today's router already routes as labelled adds nothing."""
    assert examples_snippet([reviewed("A pothole", "roads", "expected")], CONFIG) == ""


def test_snippet_leaves_out_examples_already_in_the_file_and_repeats() -> None:
    """An example the file already has (any case or spacing), or one said twice, appears at most once."""
    snippet = examples_snippet(
        [
            reviewed("the tarmac by the school is  cracked and crumbling", "roads", "asked"),
            reviewed("Glass on the lane", "roads", "asked"),
            reviewed("glass on the lane", "roads", "misrouted"),
        ],
        CONFIG,
    )
    assert yaml.safe_load(snippet) == [{"key": "roads", "examples": ["Glass on the lane"]}]


def test_snippet_quotes_texts_yaml_would_misread() -> None:
    """A text with a colon or a leading '#' stays one string when pasted."""
    snippet = examples_snippet([reviewed("Urgent: #bins overflowing", "waste", "asked")], CONFIG)
    assert yaml.safe_load(snippet) == [{"key": "waste", "examples": ["Urgent: #bins overflowing"]}]


def test_snippet_skips_departments_the_file_no_longer_has() -> None:
    """A label naming a department since removed from the routing file is left out."""
    assert examples_snippet([reviewed("Lost dog", "animals", "asked")], CONFIG) == ""
