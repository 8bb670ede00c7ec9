"""The routing file's ``topics``: what citizens can follow besides departments, validated with FILE:LINE errors."""

from __future__ import annotations

import pytest

from bot.consultations.sending import followables
from bot.live_routing import directory_from
from config.routing_file import RoutingFileError, load_routing_text

BASE = """\
fallback: general
departments:
  - key: roads
    name: Roads
    slack_channel: C0ROADS01
    keywords: [pothole]
  - key: general
    name: Citizen Services
    slack_channel: C0GENERAL1
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(RoutingFileError) as caught:
        load_routing_text(text, "routing.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_topics_are_followable_after_the_departments() -> None:
    """A topic in the file can be followed, after every department, and belongs to its department."""
    config = load_routing_text(BASE + "topics:\n  - key: roadworks\n    name: Road works\n    department: roads\n", "f")
    listed = [(f.key, f.department, f.is_topic) for f in followables(directory_from(config))]
    assert listed == [("roads", "roads", False), ("general", "general", False), ("roadworks", "roads", True)]


def test_topic_of_an_unknown_department_is_refused_with_its_line() -> None:
    """A topic naming no department is reported at its line, with the departments to choose from."""
    text = BASE + "topics:\n  - key: parks\n    name: Parks\n    department: leisure\n"
    assert _problems(text) == [
        "routing.yaml:13: topic department 'leisure' is not a department; use one of: general, roads"
    ]


def test_topic_reusing_a_department_key_is_refused() -> None:
    """A topic may not take a department's key: a citizen's ``subscribe roads`` must mean one thing."""
    text = BASE + "topics:\n  - key: roads\n    name: Roads again\n    department: roads\n"
    assert _problems(text) == [
        "routing.yaml:11: topic key 'roads' is a department's key too: give the topic its own key"
    ]


def test_unknown_key_in_a_topic_is_refused() -> None:
    """A misspelt key in a topic is reported at its line, like any unknown key."""
    text = BASE + "topics:\n  - key: roadworks\n    name: Road works\n    department: roads\n    colour: red\n"
    [problem] = _problems(text)
    assert problem.startswith("routing.yaml:14:")
    assert "colour" in problem
