"""The router with its multilingual sentence encoder and language identifier, as the bridge runs it."""

from __future__ import annotations

import pytest

from config.routing_file import load_routing_text
from routing.encoder import load_encoder
from routing.language import LanguageIdentifier
from routing.meaning import Calibration, Weighing
from routing.router import LearnedExample, Router, build_router, identifiable_languages
from tests.routing.sample import ROUTING

LEARNING_ON = ROUTING.replace("fallback: general", "fallback: general\nlearning: {use_confirmed_examples: true}")
TAUGHT = (LearnedExample("Someone sprayed graffiti all over the underpass", "roads"),)


@pytest.fixture(scope="module")
def router() -> Router:
    """The bridge's router over the small sample routing file."""
    return build_router(load_routing_text(ROUTING, "routing.yaml"))


def test_a_message_without_keywords_routes_by_meaning(router: Router) -> None:
    """A message sharing no keyword with any department goes where its meaning is closest."""
    assert router.route("Tarmac near the school is cracking").department == "roads"


def test_a_message_in_another_language_routes_by_meaning(router: Router) -> None:
    """A German message reaches the department whose English examples mean the same."""
    assert router.route("Der Mülleimer vor meinem Haus wurde nicht geleert").department == "waste"


def test_the_decision_names_the_language_identified(router: Router) -> None:
    """The decision carries the language identified in the text, for the case to keep."""
    assert router.route("Der Mülleimer vor meinem Haus wurde nicht geleert").language == "de"


def test_a_short_text_takes_the_platform_language(router: Router) -> None:
    """Too short to tell ("Hola"), the platform's locale stands in for the language."""
    assert router.route("Hola", language="es-ES").language == "es"


def test_a_short_text_without_a_platform_language_is_undecided(router: Router) -> None:
    """Too short to tell and no locale given: the language is left undecided."""
    assert router.route("bins").language is None


def test_a_greeting_too_short_to_judge_goes_to_the_fallback(router: Router) -> None:
    """One or two words with no keyword are not judged by meaning: the fallback gets them."""
    assert router.route("Hola").department == "general"


def test_the_reason_names_the_closest_example_and_its_likeness(router: Router) -> None:
    """``routes explain`` can say which example the message was closest to, and how close."""
    reason = router.route("Tarmac near the school is cracking").reason
    assert "closest example 'The tarmac by the school is cracked and crumbling' (0." in reason


def test_an_english_message_is_also_weighed_by_its_wording(router: Router) -> None:
    """The bridge's router, in an English office, also compares English wording (the word vectors)."""
    assert "closest in wording" in router.route("Tarmac near the school is cracking").reason
    assert "closest in wording" not in router.route("Der Mülleimer vor meinem Haus wurde nicht geleert").reason


def test_the_reason_names_the_keyword_that_matched(router: Router) -> None:
    """Keywords found in the message are named in the reason."""
    assert "keywords 'pothole'" in router.route("There is a pothole outside my house").reason


def test_keywords_of_two_departments_make_the_router_ask(router: Router) -> None:
    """A message with one keyword each of two departments, equally close in meaning, is asked."""
    decision = router.route("The bin in the playground is overflowing")
    assert (decision.department, set(decision.candidates)) == (None, {"parks", "waste"})


def test_confirmed_examples_route_when_the_routing_file_allows() -> None:
    """With ``use_confirmed_examples: true`` a learned example draws messages like it to its department."""
    taught = build_router(load_routing_text(LEARNING_ON, "routing.yaml"), learned=TAUGHT)
    decision = taught.route("There is new graffiti in the underpass by the station")
    assert (decision.department, "closest learned example" in decision.reason) == ("roads", True)


def test_confirmed_examples_are_ignored_unless_the_routing_file_allows() -> None:
    """Without the switch, learned examples are not used: the same message is judged as before."""
    untaught = build_router(load_routing_text(ROUTING, "routing.yaml"), learned=TAUGHT)
    reason = untaught.route("There is new graffiti in the underpass by the station").reason
    assert "learned example" not in reason


def test_a_reloaded_router_routes_by_the_new_file(router: Router) -> None:
    """After a reload with a department renamed in its key, messages reach the new key."""
    changed = load_routing_text(ROUTING.replace("key: roads", "key: highways"), "routing.yaml")
    assert router.reloaded(changed).route("There is a pothole outside my house").department == "highways"


def test_a_message_in_another_language_is_weighed_by_its_own_calibration() -> None:
    """A German message is judged with ``Calibration.other``: its margin, not the office language's, decides."""
    strict_other = Calibration(other=Weighing(keyword_bonus=0.05, unsure_margin=5.0, likeness_of=2, keyword_weight=1.0))
    config = load_routing_text(ROUTING, "routing.yaml")
    identifier = LanguageIdentifier(identifiable_languages(config))
    router = Router(config, encoder=load_encoder(), identifier=identifier, calibration=strict_other)
    german = router.route("Der Mülleimer vor meinem Haus wurde nicht geleert")
    english = router.route("The tarmac near the school is cracked and crumbling")
    assert (german.department, english.department) == (None, "roads")


def test_routing_a_batch_decides_as_routing_one_by_one(router: Router) -> None:
    """Messages routed together (first messages arriving at once) get the decisions they get alone."""
    questions = [
        ("Tarmac near the school is cracking", None),
        ("Der Mülleimer vor meinem Haus wurde nicht geleert", "de"),
        ("Hola", "es-ES"),
        ("The swings in the playground are broken and the bin is full", "en"),
        ("bins", None),
    ]
    batched = router.route_all(questions)
    alone = [router.route(text, language=language) for text, language in questions]
    assert [(d.department, d.candidates, d.language, d.reason) for d in batched] == [
        (d.department, d.candidates, d.language, d.reason) for d in alone
    ]
    assert [d.department for d in batched][:2] == ["roads", "waste"]
