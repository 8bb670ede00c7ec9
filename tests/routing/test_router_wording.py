"""In an English office, a message's English wording is a second opinion beside its meaning."""

from __future__ import annotations

import re
import warnings
import zlib
from typing import TYPE_CHECKING

import numpy as np
import pytest

from config.routing_file import load_routing_text
from routing.encoder import load_word_encoder
from routing.language import LanguageIdentifier
from routing.meaning import Calibration, Weighing
from routing.router import Router, identifiable_languages
from tests.routing.sample import ROUTING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from routing.encoder import SentenceEncoder

CALIBRATION = Calibration(
    office=Weighing(keyword_bonus=0.1, unsure_margin=0.1, likeness_of=1, pooled=True, wording_weight=1.0),
    other=Weighing(keyword_bonus=0.1, unsure_margin=0.1, likeness_of=1, pooled=True),
)
SWINGS = "The swings and slide are broken again"


class AllAlike:
    """A sentence encoder that finds every text alike: meaning alone cannot tell departments apart."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The same unit row for every text."""
        return np.full((len(texts), 4), 0.5, dtype=np.float32)


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


def router(word_encoder: SentenceEncoder | None) -> Router:
    """The sample routing file, routed by ``AllAlike`` meaning and the given word vectors."""
    config = load_routing_text(ROUTING, "routing.yaml")
    identifier = LanguageIdentifier(identifiable_languages(config))
    return Router(config, encoder=AllAlike(), word_encoder=word_encoder, identifier=identifier, calibration=CALIBRATION)


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
