from __future__ import annotations

import dataclasses

import pytest

from config.routing_file import load_routing_text
from routing.router import Decision, Router
from tests.routing.sample import ROUTING


@pytest.fixture(scope="module")
def router() -> Router:
    """A router over four small departments, by keywords and examples only."""
    return Router(load_routing_text(ROUTING, "routing.yaml"), encoder=None)


def test_keyword_routes_to_its_department(router: Router) -> None:
    """A message with one department's keyword goes to that department."""
    assert router.route("There is a pothole outside my house").department == "roads"


def test_keyword_does_not_match_inside_a_longer_word(router: Router) -> None:
    """The keyword "road" does not match inside "broadband"."""
    assert router.route("Our broadband keeps dropping").department == "general"


def test_keyword_matches_whatever_the_case(router: Router) -> None:
    """Keywords match case-insensitively."""
    assert router.route("there is a POTHOLE on my way to work").department == "roads"


def test_multi_word_keyword_matches_as_a_phrase(router: Router) -> None:
    """A multi-word keyword matches the words together, in order."""
    assert "'street light'" in router.route("The street light is out").reason


def test_multi_word_keyword_does_not_match_scattered_words(router: Router) -> None:
    """The words of a phrase keyword apart from each other are not that keyword."""
    assert "'street light'" not in router.route("The light in our street is out").reason


@pytest.mark.parametrize("text", ["Two potholes here", "The buses are late", "Lorries block the lane"])
def test_keyword_matches_simple_plurals(router: Router, text: str) -> None:
    """Plurals in s, es and ies match the singular keyword."""
    assert router.route(text).department == "roads"


def test_keyword_with_one_typo_still_matches(router: Router) -> None:
    """A long keyword with one letter swapped, missing or wrong still matches."""
    assert router.route("The pothoel is getting deeper").department == "roads"


def test_longer_keyword_wins_over_a_keyword_inside_it(router: Router) -> None:
    """The keyword "council tip" claims the message; the "council" inside it does not count."""
    assert router.route("When does the council tip open?").department == "waste"


def test_message_nothing_claims_goes_to_fallback(router: Router) -> None:
    """A message that matches no keyword or example goes to the fallback, with no confidence."""
    decision = router.route("Hello, is anybody there?")
    assert (decision.department, decision.confidence, decision.candidates) == ("general", 0.0, ())


def test_close_scores_make_the_router_unsure(router: Router) -> None:
    """Keywords of two departments in one message make the router ask, offering both."""
    decision = router.route("The bin in the playground is overflowing")
    assert (decision.department, decision.candidates) == (None, ("waste", "parks"))


def test_unsure_candidates_come_best_first(router: Router) -> None:
    """Candidates are ordered by score, so the stronger claim is offered first."""
    decision = router.route("The bin by the swings in the playground is broken")
    assert decision.candidates == ("parks", "waste")


def test_clear_lead_routes_despite_a_rival_keyword(router: Router) -> None:
    """Two keywords for one department beat one keyword for another."""
    assert router.route("Rubbish and recycling dumped in the park").department == "waste"


def test_unsure_ratio_from_the_routing_file_sets_what_counts_as_close() -> None:
    """With unsure_ratio 0.5, one keyword against two is close enough to ask."""
    config = load_routing_text(ROUTING.replace("fallback: general", "fallback: general\nunsure_ratio: 0.5"), "r.yaml")
    assert Router(config, encoder=None).route("Rubbish and recycling dumped in the park").candidates == (
        "waste",
        "parks",
    )


def test_a_keyword_said_twice_counts_once(router: Router) -> None:
    """Repeating a keyword or its plural adds no weight."""
    assert router.route("bin, bins, bins! and now the park").department is None


def test_examples_route_a_message_without_keywords(router: Router) -> None:
    """Words shared with a department's examples route a message that has no keyword."""
    assert router.route("Tarmac near the school is crumbling away").department == "roads"


def test_one_shared_word_is_too_weak_to_route(router: Router) -> None:
    """A single word in common with one department's examples makes the router ask, offering it."""
    decision = router.route("My driveway is flooded")
    assert (decision.department, decision.candidates) == (None, ("waste",))


def test_keyword_inside_a_street_name_is_ignored(router: Router) -> None:
    """The "Road" in "Hawthorn Road" is an address, not a topic."""
    decision = router.route("Noisy neighbours at 12 Hawthorn Road")
    assert decision.department == "general"
    assert "ignored 'Road'" in decision.reason


def test_capitalised_keywords_the_file_knows_are_not_a_name(router: Router) -> None:
    """A capitalised "Street Light" is still the keyword: its words are the routing file's own."""
    assert router.route("Our Street Light flickers").department == "roads"


def test_other_languages_are_matched_word_for_word() -> None:
    """With a non-English language, capitalised nouns are not mistaken for names."""
    config = load_routing_text(
        "fallback: general\ndepartments:\n"
        "  - {key: waste, name: Abfall, desk: web, keywords: [Müll]}\n"
        "  - {key: general, name: Bürgerservice, desk: web}\n",
        "routing.yaml",
    )
    assert Router(config, encoder=None).route("Der Müll wurde nicht abgeholt", language="de").department == "waste"


def test_more_keywords_give_more_confidence(router: Router) -> None:
    """Confidence grows with the evidence and stays within 0..1."""
    one = router.route("A pothole").confidence
    two = router.route("A pothole in the road by the bus stop").confidence
    assert 0 < one < two <= 1


def test_reason_names_the_matched_keywords(router: Router) -> None:
    """The reason says which keywords decided."""
    assert router.route("Potholes everywhere").reason.startswith("roads 3.0 (keywords 'pothole'")


def test_decision_is_frozen(router: Router) -> None:
    """A decision cannot be changed after the fact."""
    decision: Decision = router.route("A pothole")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.department = "waste"  # type: ignore[misc]
