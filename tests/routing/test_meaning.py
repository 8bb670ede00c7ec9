"""A message's likeness to each department: channels of examples, keywords and names, or one pooled channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from routing.meaning import DepartmentText, MeaningIndex, Weights

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

TEXTS = (
    DepartmentText("roads", "Roads", "name"),
    DepartmentText("roads", "pothole", "keyword"),
    DepartmentText("roads", "a deep hole in the road", "example"),
    DepartmentText("roads", "the street light is out", "example"),
    DepartmentText("waste", "Waste", "name"),
    DepartmentText("waste", "the bin was not emptied", "learned example"),
)


class RowEncoder:
    """Encodes the i-th department text as the i-th unit vector: a message's similarity is then given directly."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One-hot rows in the order of ``TEXTS``."""
        rows = np.zeros((len(texts), len(TEXTS)), dtype=np.float32)
        for row, text in enumerate(texts):
            rows[row, [known.text for known in TEXTS].index(text)] = 1.0
        return rows


@pytest.fixture
def index() -> MeaningIndex:
    """The six texts of two departments, embedded."""
    return MeaningIndex(TEXTS, departments=("roads", "waste"), encoder=RowEncoder())


SIMILARITY = np.array([0.2, 0.6, 0.5, 0.3, 0.1, 0.4], dtype=np.float32)


def test_examples_count_by_the_mean_of_the_closest(index: MeaningIndex) -> None:
    """With only the examples' channel, a department's likeness is the mean of its two closest examples."""
    likeness = index.likeness(SIMILARITY, Weights(examples_of=2, keywords=0.0, names=0.0))
    assert likeness.tolist() == pytest.approx([0.4, 0.4])


def test_keywords_and_names_add_by_their_weights(index: MeaningIndex) -> None:
    """The keywords' and the names' channels add their cosines times their weights."""
    likeness = index.likeness(SIMILARITY, Weights(examples_of=1, keywords=0.5, names=1.0))
    assert likeness.tolist() == pytest.approx([0.5 + 0.5 * 0.6 + 0.2, 0.4 + 0.1])


def test_pooled_likeness_takes_the_closest_texts_of_any_kind(index: MeaningIndex) -> None:
    """Pooled, the keyword "pothole" (0.6) and an example (0.5) are the roads' two closest texts."""
    likeness = index.likeness(SIMILARITY, Weights(examples_of=2, keywords=0.0, names=0.0, pooled=True))
    assert likeness.tolist() == pytest.approx([0.55, 0.25])


def test_the_closest_text_of_each_department_is_named(index: MeaningIndex) -> None:
    """Each department's closest text, whatever its kind, comes with its cosine."""
    closest = index.closest(SIMILARITY)
    assert [(round(cosine, 2), text.text) for cosine, text in filter(None, closest)] == [
        (0.6, "pothole"),
        (0.4, "the bin was not emptied"),
    ]
