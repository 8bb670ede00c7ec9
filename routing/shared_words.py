"""Without an encoder: the words a message shares with each department's name, keywords and examples."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from routing.keywords import KeywordIndex, Token, name_positions, tokens

if TYPE_CHECKING:
    from collections.abc import Sequence

    from config.routing_file import RoutingConfig

#: Shortest word that counts as shared with examples (no encoder): "the", "my", "is" say nothing.
MIN_SHARED_WORD = 4


class SharedWords:
    """Without an encoder: words of each department's name, keywords and examples, weighted by rarity."""

    def __init__(self, config: RoutingConfig, keywords: KeywordIndex) -> None:
        self._keywords = keywords
        terms_of: dict[str, set[str]] = {}
        for dept in config.departments:
            terms: set[str] = set()
            for text in (dept.name, *dept.keywords, *dept.examples):
                words = tokens(text)
                names = name_positions(words, keywords.known)
                terms.update(
                    self._term(token) for index, token in enumerate(words) if index not in names and self._counts(token)
                )
            terms_of[dept.key] = terms
        count = len(terms_of)
        using: dict[str, list[str]] = defaultdict(list)
        for key, terms in terms_of.items():
            for term in terms:
                using[term].append(key)
        # Inverse document frequency scaled so a word only one department uses weighs 1.
        self.weights = {
            term: dict.fromkeys(keys, 1.0 if count == 1 else math.log(count / len(keys)) / math.log(count))
            for term, keys in using.items()
            if count == 1 or len(keys) < count
        }

    @staticmethod
    def _counts(token: Token) -> bool:
        return len(token.folded) >= MIN_SHARED_WORD and not token.folded.isdigit()

    def _term(self, token: Token) -> str:
        return self._keywords.stemmers.stem(token.folded, self._keywords.office_language)

    def add(
        self, words: Sequence[Token], skip: set[int] | frozenset[int], scores: dict[str, float]
    ) -> dict[str, list[str]]:
        """Add each shared word's weight to its departments' scores; return the words per department."""
        words_of: dict[str, list[str]] = defaultdict(list)
        counted: set[str] = set()
        for index, token in enumerate(words):
            term = self._term(token)
            if index in skip or not self._counts(token) or term in counted:
                continue
            counted.add(term)
            for key, weight in self.weights.get(term, {}).items():
                scores[key] += weight
                words_of[key].append(repr(token.folded))
        return words_of
