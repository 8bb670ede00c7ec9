"""Keywords from the routing file, found in a citizen's message.

A keyword matches case-insensitively on word boundaries; a multi-word keyword
matches as a phrase; simple plurals (s, es, ies) match. Beyond those rules of
the routing file, words meet through the Snowball stemmer of the message's
language and of the office language ("collected" and "collection"), and a long
word may carry one typo (``rapidfuzz``'s optimal string alignment distance, so
a swap of neighbours counts as one). A word that matches some keyword exactly
is not also claimed by a keyword it only shares a stem with ("parking" is not
"park" when "parking" is a keyword itself).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import snowballstemmer
from rapidfuzz.distance import OSA

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: Words at least this long may carry one typo and still match a keyword.
TYPO_MIN_LENGTH = 7

#: Snowball's algorithm per ISO 639-1 code (Ukrainian has none: its words match as written).
SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "it": "italian",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'\u2019")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: ``folded`` for matching, ``original`` as written."""

    folded: str
    original: str


def tokens(text: str) -> list[Token]:
    """Split ``text`` into words, case-folded and without apostrophes for matching."""
    return [Token(match.group().casefold().translate(_APOSTROPHES), match.group()) for match in _WORD.finditer(text)]


def plural_forms(word: str) -> frozenset[str]:
    """The routing file's plural rule: a word with its simple plural (s, es, ies) or singular."""
    forms = {word, word + "s", word + "es"}
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":  # noqa: PLR2004 - "y" after a consonant
        forms.add(word[:-1] + "ies")
    if len(word) > 3:  # noqa: PLR2004 - short words such as "bus" or "gas" are not plurals
        if word.endswith("ies"):
            forms.add(word[:-3] + "y")
        elif word.endswith("es"):
            forms.update((word[:-2], word[:-1]))
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            forms.add(word[:-1])
    return frozenset(forms)


class Stemmers:
    """One Snowball stemmer per language that has one, made once."""

    def __init__(self, languages: Iterable[str]) -> None:
        """Make the stemmers of ``languages`` (ISO 639-1 codes); others are left out."""
        self._by_language = {
            language: snowballstemmer.stemmer(SNOWBALL[language]) for language in languages if language in SNOWBALL
        }

    def stem(self, word: str, language: str) -> str:
        """``word``'s stem in ``language``; the word itself when that language has no stemmer."""
        stemmer = self._by_language.get(language)
        return str(stemmer.stemWord(word)) if stemmer is not None else word


@dataclass(frozen=True, slots=True)
class Keyword:
    """A keyword of one department, as written in the routing file."""

    department: str
    text: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """A keyword found at words ``start``..``end`` of a message, and how it was found."""

    start: int
    end: int
    keyword: Keyword
    seen_as: str
    how: str  # "as written", "stem" or "typo"


class KeywordIndex:
    """Every department's keywords, indexed for lookup by word, plural, stem and near spelling."""

    def __init__(self, keywords: Iterable[tuple[str, str]], *, languages: Sequence[str], office_language: str) -> None:
        """Index (department, keyword) pairs; stems are kept for each of ``languages``."""
        self.office_language = office_language
        self._languages = tuple(dict.fromkeys((office_language, *languages)))
        self.stemmers = Stemmers(self._languages)
        self._exact: dict[str, list[Keyword]] = defaultdict(list)
        self._stemmed: dict[tuple[str, str], list[Keyword]] = defaultdict(list)
        self._long: list[Keyword] = []
        known: set[str] = set()
        for department, text in keywords:
            words = tuple(token.folded for token in tokens(text))
            if not words:
                continue
            keyword = Keyword(department, text, words)
            known.update(words[:-1])
            known.update(plural_forms(words[-1]))
            for form in plural_forms(words[0]) if len(words) == 1 else {words[0]}:
                self._exact[form].append(keyword)
            for language in self._languages:
                self._stemmed[language, self.stemmers.stem(words[0], language)].append(keyword)
            if len(words) == 1 and len(words[0]) >= TYPO_MIN_LENGTH:
                self._long.append(keyword)
        self.known = frozenset(known)

    def _word_matches(self, typed: Token, word: str, *, last: bool, languages: Sequence[str]) -> str | None:
        """How a message word matches one keyword word: "as written", "stem", "typo", or None."""
        if typed.folded == word or (last and typed.folded in plural_forms(word)):
            return "as written"
        if any(self.stemmers.stem(typed.folded, lang) == self.stemmers.stem(word, lang) for lang in languages):
            return "stem"
        return None

    def hits(self, words: Sequence[Token], *, language: str | None) -> list[Hit]:
        """Find the keywords in ``words``, longest first, each word claimed by its best match only."""
        languages = tuple(dict.fromkeys(lang for lang in (language, self.office_language) if lang is not None))
        found: list[Hit] = []
        for start, token in enumerate(words):
            candidates = {id(k): k for k in self._exact.get(token.folded, ())}
            for lang in languages:
                stem = self.stemmers.stem(token.folded, lang)
                candidates.update((id(k), k) for k in self._stemmed.get((lang, stem), ()))
            for keyword in candidates.values():
                end = start + len(keyword.words)
                if end > len(words):
                    continue
                ways = [
                    self._word_matches(
                        words[start + offset], word, last=offset == len(keyword.words) - 1, languages=languages
                    )
                    for offset, word in enumerate(keyword.words)
                ]
                if all(ways):
                    how = "as written" if all(way == "as written" for way in ways) else "stem"
                    found.append(_hit(words, start, end, keyword, how))
            if not candidates and len(token.folded) >= TYPO_MIN_LENGTH:
                found.extend(
                    _hit(words, start, start + 1, keyword, "typo")
                    for keyword in self._long
                    if keyword.words[0][0] == token.folded[0]
                    and OSA.distance(token.folded, keyword.words[0], score_cutoff=1) <= 1
                )
        exact_at = {index for hit in found if hit.how == "as written" for index in range(hit.start, hit.end)}
        trusted = [hit for hit in found if hit.how == "as written" or not exact_at & set(range(hit.start, hit.end))]
        return [
            hit
            for hit in trusted
            if not any(
                other.start <= hit.start and hit.end <= other.end and other.end - other.start > hit.end - hit.start
                for other in trusted
            )
        ]

    def said(self, words: Sequence[Token], hit: Hit) -> str:
        """What a hit said, stemmed in the office language: "pothole" and "potholes" are said once."""
        return " ".join(self.stemmers.stem(token.folded, self.office_language) for token in words[hit.start : hit.end])


def _hit(words: Sequence[Token], start: int, end: int, keyword: Keyword, how: str) -> Hit:
    return Hit(start, end, keyword, " ".join(token.original for token in words[start:end]), how)


def name_positions(words: Sequence[Token], known: frozenset[str]) -> frozenset[int]:
    """Find the words of names such as "Hawthorn Road": addresses and names, not topics.

    A name is a run of two or more capitalised words (not in capitals, which is
    emphasis; not a sentence's first word) with at least one word the routing
    file does not know: "Council Tax" and "Street Light" stay topics.
    """
    capital = [
        index > 0 and token.original[0].isupper() and not token.original.isupper() for index, token in enumerate(words)
    ]
    names: set[int] = set()
    start = 0
    while start < len(words):
        end = start
        while end < len(words) and capital[end]:
            end += 1
        if end - start >= 2 and any(words[index].folded not in known for index in range(start, end)):  # noqa: PLR2004 - one capitalised word may be a proper noun of the topic
            names.update(range(start, end))
        start = end + 1
    return frozenset(names)
