"""Departments' texts embedded once, a message's likeness in meaning to each department, and how it is weighed.

Three channels of meaning, weighted (``routing.router.Calibration``): the mean
cosine of a department's closest examples (learned examples included), of its
closest keywords, each embedded alone so that "bache" comes near "pothole",
and the best cosine of its names (and its keyword list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from routing.encoder import SentenceEncoder

#: The kinds of department text that are examples of messages (the rest are names and keywords).
EXAMPLES = ("example", "learned example")

#: The keywords' likeness is the mean cosine of this many of a department's closest keywords.
KEYWORDS_OF = 3


@dataclass(frozen=True, slots=True)
class DepartmentText:
    """One text of a department, embedded: its name, keyword list, a keyword, an example or a learned example."""

    department: str
    text: str
    kind: str  # "name", "keyword list", "keyword", "example" or "learned example"


@dataclass(frozen=True, slots=True)
class Weights:
    """How many closest examples count, and the weights of the keywords' and the names' channels.

    ``pooled``: one channel instead, the mean cosine of the ``examples_of`` closest texts of any kind.
    """

    examples_of: int
    keywords: float
    names: float
    pooled: bool = False


@dataclass(frozen=True, slots=True)
class Weighing:
    """How the router weighs the evidence for one group of messages (cosine units).

    ``keyword_bonus``: what one keyword found adds to its department's score.
    ``unsure_margin``: the lead over the runner-up below which the citizen is asked.
    ``likeness_of``: the examples' likeness is the mean cosine of this many of a department's closest examples.
    ``keyword_weight``: weight of the keywords' likeness (mean cosine of the 3 closest keywords, each embedded alone).
    ``name_weight``: weight of the name's likeness (best cosine of the department's names and its keyword list).
    ``pooled``: instead of the three channels, the likeness is the mean cosine of the ``likeness_of``
    closest texts of any kind (names, keywords, examples), as the router weighed before the channels.
    ``wording_weight``: weight of the wording's likeness, by the English word vectors (pooled the same
    way, ``likeness_of`` closest texts of any kind), for a router that has them.
    """

    keyword_bonus: float
    unsure_margin: float
    likeness_of: int
    keyword_weight: float = 0.0
    name_weight: float = 0.0
    pooled: bool = False
    wording_weight: float = 0.0

    @property
    def weights(self) -> Weights:
        """The channels' weights, for ``routing.meaning``."""
        return Weights(self.likeness_of, self.keyword_weight, self.name_weight, pooled=self.pooled)


@dataclass(frozen=True, slots=True)
class Calibration:
    """How the router weighs evidence when it has its encoder; the defaults are the ones ``routing.calibrate`` chose.

    ``office``: for a message in the office language (that of the routing file's texts) or in no
    language identified. ``other``: for a message in another language, whose cosines to the routing
    file's texts run on another scale. ``min_likeness``: when no text of any department comes this
    close and no keyword matched, nothing claims the message. ``sure_by_wording``: a message in the
    office language whose best department leads by this much on keywords and word vectors alone
    (the office score without the sentence encoder's part) is decided without the encoder; ``None``
    always asks the encoder.
    """

    office: Weighing = Weighing(keyword_bonus=0.2, unsure_margin=0.2, likeness_of=3, pooled=True, wording_weight=1.5)
    other: Weighing = Weighing(
        keyword_bonus=0.05, unsure_margin=0.11, likeness_of=2, keyword_weight=1.5, name_weight=0.5
    )
    min_likeness: float = 0.15
    sure_by_wording: float | None = 0.35


#: The calibration the bridge runs.
CALIBRATION = Calibration()


class MeaningIndex:
    """Every department's texts embedded once (at start-up and on reload), in the routing file's order."""

    def __init__(
        self, texts: Sequence[DepartmentText], *, departments: Sequence[str], encoder: SentenceEncoder
    ) -> None:
        """Embed ``texts``; ``departments`` gives the order of the likeness columns."""
        self.texts = tuple(texts)
        self.matrix = encoder.encode([text.text for text in self.texts])
        column = {key: index for index, key in enumerate(departments)}
        owner = np.array([column[text.department] for text in self.texts], dtype=np.int_)
        kinds = np.array([text.kind for text in self.texts])
        self._count = len(departments)
        self._rows_of = rows_by_department(owner, self._count)
        self._examples = rows_by_department(np.where(np.isin(kinds, EXAMPLES), owner, -1), self._count)
        self._keywords = rows_by_department(np.where(kinds == "keyword", owner, -1), self._count)
        self._names = rows_by_department(np.where(np.isin(kinds, ("name", "keyword list")), owner, -1), self._count)

    def likeness(self, similarity: NDArray[np.float32], weights: Weights) -> NDArray[np.float64]:
        """Each department's likeness, its channels' weighted sum (``similarity``: the cosine to each text)."""
        total = np.zeros(self._count)
        channels = (
            ((self._rows_of, weights.examples_of, 1.0),)
            if weights.pooled
            else (
                (self._examples, weights.examples_of, 1.0),
                (self._keywords, KEYWORDS_OF, weights.keywords),
                (self._names, 1, weights.names),
            )
        )
        for rows, of, weight in channels:
            if not weight:
                continue
            padded = np.where(rows >= 0, similarity[rows], -np.inf)
            top = -np.sort(-padded, axis=1)[:, :of]
            counted = np.isfinite(top).sum(axis=1)
            sums = np.where(np.isfinite(top), top, 0.0).sum(axis=1)
            total += weight * np.divide(sums, counted, out=np.zeros(self._count), where=counted > 0)
        return total

    def closest(
        self, similarity: NDArray[np.float32], *, keywords_only: bool = False
    ) -> list[tuple[float, DepartmentText] | None]:
        """Each department's closest text (or keyword) and its cosine (``None`` for a department without any)."""
        table = self._keywords if keywords_only else self._rows_of
        padded = np.where(table >= 0, similarity[table], -np.inf)
        nearest = table[np.arange(self._count), np.argmax(padded, axis=1)]
        return [(float(similarity[row]), self.texts[row]) if row >= 0 else None for row in nearest]


def rows_by_department(owner: NDArray[np.int_], departments: int) -> NDArray[np.int_]:
    """Each department's row numbers in the text matrix, one department a row, padded with -1."""
    rows = [np.flatnonzero(owner == column) for column in range(departments)]
    table = np.full((departments, max((len(found) for found in rows), default=0) or 1), -1, dtype=np.int_)
    for column, found in enumerate(rows):
        table[column, : len(found)] = found
    return table
