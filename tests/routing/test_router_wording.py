"""In an English office, a message's English wording is a second opinion beside its meaning.

When keywords and wording alone are sure, the sentence encoder (~3 ms a message) is not asked.
"""

from __future__ import annotations

import csv
import re
import warnings
import zlib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from config.routing_file import load_routing, load_routing_text
from routing.encoder import load_encoder, load_word_encoder
from routing.language import LanguageIdentifier
from routing.meaning import CALIBRATION as CALIBRATION_IN_FORCE
from routing.meaning import Calibration, Weighing
from routing.router import Router, build_router, identifiable_languages
from tests.routing.sample import ROUTING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from routing.encoder import SentenceEncoder

CALIBRATION = Calibration(
    office=Weighing(keyword_bonus=0.1, unsure_margin=0.1, likeness_of=1, pooled=True, wording_weight=1.0),
    other=Weighing(keyword_bonus=0.1, unsure_margin=0.1, likeness_of=1, pooled=True),
    sure_by_wording=None,
)
#: The routing file our English development cases were written for, and the cases.
SHARED_ROUTING = Path(__file__).resolve().parents[2].parent / "shared/data/routing/routing.yaml"
OUR_ENGLISH_CASES = [Path(__file__).parent / f"{part}_cases_en.csv" for part in ("dev", "holdout")]
SWINGS = "The swings and slide are broken again"


class AllAlike:
    """A sentence encoder that finds every text alike: meaning alone cannot tell departments apart."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The same unit row for every text."""
        return np.full((len(texts), 4), 0.5, dtype=np.float32)


class CountingAllAlike(AllAlike):
    """``AllAlike``, noting the texts it is asked to encode."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Note the texts, then find them all alike."""
        self.encoded.extend(texts)
        return super().encode(texts)


class SharedWords:
    """Word vectors as a bag of words: texts are alike by the words they share."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Each word hashed to one of 512 dimensions, rows scaled to unit length."""
        rows = np.zeros((len(texts), 512), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.casefold()):
                rows[row, zlib.crc32(word.encode()) % 512] += 1.0
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (rows / np.where(norms == 0, 1, norms)).astype(np.float32)
        return unit


def router(
    word_encoder: SentenceEncoder | None, *, encoder: SentenceEncoder | None = None, sure: float | None = None
) -> Router:
    """The sample routing file, routed by ``AllAlike`` meaning (or ``encoder``) and the given word vectors.

    ``sure``: the lead at which keywords and wording alone decide (``None``: never).
    """
    config = load_routing_text(ROUTING, "routing.yaml")
    identifier = LanguageIdentifier(identifiable_languages(config))
    calibration = replace(CALIBRATION, sure_by_wording=sure)
    return Router(
        config, encoder=encoder or AllAlike(), word_encoder=word_encoder, identifier=identifier, calibration=calibration
    )


def test_wording_decides_what_meaning_cannot_tell_apart() -> None:
    """Sharing "swings" and "slide" with the parks example, the message goes to parks."""
    assert router(SharedWords()).route(SWINGS).department == "parks"


def test_without_word_vectors_the_citizen_is_asked() -> None:
    """The same message, with meaning alone finding every department alike, makes the router ask."""
    decision = router(None).route(SWINGS)
    assert (decision.department, len(decision.candidates)) == (None, 4)


def test_a_message_in_another_language_is_not_weighed_by_english_wording() -> None:
    """English word vectors say nothing about German: a German message is weighed without them, and asked."""
    decision = router(SharedWords()).route("Die swings und die slide sind schon wieder kaputt, bitte reparieren")
    assert (decision.language, decision.department) == ("de", None)


def test_the_reason_names_the_text_closest_in_wording() -> None:
    """``routes explain`` says which department text the wording was closest to, and its weight."""
    reason = router(SharedWords()).route(SWINGS).reason
    assert "closest in wording example 'The swings and slide need repainting before summer' (0." in reason
    assert "weighs 1)" in reason


def test_only_an_english_office_has_word_vectors() -> None:
    """WordLlama's vectors are English: an office in another language routes without them."""
    assert load_word_encoder("fr") is None


def test_the_installed_word_vectors_compare_english_wording() -> None:
    """The installed vectors, loaded offline from the wheel: a lamp is nearer a light than a bin; empty is zero."""
    encoder = load_word_encoder("en")
    assert encoder is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = encoder.encode(["The street lamp is broken", "The street light is out", "My bin was not emptied", ""])
    assert rows[0] @ rows[1] > rows[0] @ rows[2] + 0.2
    assert np.linalg.norm(rows[:3], axis=1) == pytest.approx([1.0, 1.0, 1.0])
    assert not rows[3].any()


def test_a_message_keywords_and_wording_are_sure_of_skips_the_sentence_encoder() -> None:
    """Sure enough by wording ("swings", "slide"), the message goes to parks without the sentence encoder."""
    meaning = CountingAllAlike()
    sure = router(SharedWords(), encoder=meaning, sure=0.05)
    meaning.encoded.clear()  # the routing file's texts, embedded once at start-up
    decision = sure.route(SWINGS)
    assert (decision.department, meaning.encoded) == ("parks", [])
    assert "sure by keywords and wording alone" in decision.reason


def test_a_message_they_are_not_sure_enough_of_is_weighed_by_meaning_too() -> None:
    """Below the lead, the sentence encoder is asked as well, and the decision weighs both."""
    meaning = CountingAllAlike()
    unsure = router(SharedWords(), encoder=meaning, sure=5.0)
    meaning.encoded.clear()
    decision = unsure.route(SWINGS)
    assert (decision.department, meaning.encoded) == ("parks", [SWINGS])
    assert "sure by keywords and wording alone" not in decision.reason


def test_a_message_in_another_language_always_goes_to_the_sentence_encoder() -> None:
    """English wording is never enough for a German message, however low the lead asked for."""
    meaning = CountingAllAlike()
    german = "Die swings und die slide sind schon wieder kaputt, bitte reparieren"
    lenient = router(SharedWords(), encoder=meaning, sure=0.0)
    meaning.encoded.clear()
    lenient.route(german)
    assert meaning.encoded == [german]


def test_deciding_by_wording_alone_changes_no_decision_on_our_english_cases() -> None:
    """Our 315 English cases are decided as if the sentence encoder were always asked.

    On the routing file they were written for; keywords and wording alone settle more than a quarter of them.
    """
    if not SHARED_ROUTING.exists():
        pytest.skip(f"the shared routing data is not at {SHARED_ROUTING}")
    config = load_routing(SHARED_ROUTING)
    questions: list[tuple[str, str | None]] = []
    for path in OUR_ENGLISH_CASES:
        with path.open(encoding="utf-8", newline="") as file:
            questions.extend((row["text"], None) for row in csv.DictReader(file))
    decided = build_router(config).route_all(questions)
    always = Router(
        config,
        encoder=load_encoder(),
        word_encoder=load_word_encoder("en"),
        identifier=LanguageIdentifier(identifiable_languages(config)),
        calibration=replace(CALIBRATION_IN_FORCE, sure_by_wording=None),
    ).route_all(questions)
    skipped = sum("sure by keywords and wording alone" in decision.reason for decision in decided)
    assert [d.department for d in decided] == [d.department for d in always]
    assert skipped > len(questions) // 4


def test_an_office_that_switches_to_english_on_reload_gains_the_word_vectors() -> None:
    """Reloaded from a French office's file to an English one, English messages are weighed by wording too."""
    french = load_routing_text(ROUTING.replace("fallback: general", "fallback: general\noffice_language: fr"), "r.yaml")
    english = load_routing_text(ROUTING, "routing.yaml")
    text = "Tarmac near the school is cracking"
    before = build_router(french)
    assert "closest in wording" not in before.route(text).reason
    assert "closest in wording" in before.reloaded(english).route(text).reason
