"""The router: from a citizen's first message to a department, with a confidence and the reason.

Evidence comes in two strengths. A keyword from the routing file (case-insensitive,
on word boundaries, phrases as phrases, simple plurals, one typo in long words)
is strong. A word the message shares with a department's examples, name or
keywords is weak, weighted by how few departments use it (inverse document
frequency), so words every department uses count for nothing. Words inside
proper names ("Hawthorn Road", "Victoria Park") are addresses, not topics, and
are ignored. The best-scoring department wins unless a runner-up is close or
the only evidence is a single shared word: then the router is unsure and the
citizen is asked. A message nothing claims goes to the fallback.

Word vectors, when given, settle what the words alone leave open. When no
keyword decides (the evidence is weak, absent or tied), English messages are
scored by meaning (``routing.vectors``): a department whose words the message's
words resemble ("lamp" and "street light") and that clearly leads the others
gets the message. In a keyword tie only the tied departments compete, and only
the words outside the keywords count, so keywords stay the strongest evidence.
Too little likeness leaves the keyword decision as it was.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from routing.vectors import MeaningIndex, MeaningScore, WordVectors

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from config.routing_file import RoutingConfig

#: One keyword counts as much as three words found only in one department's examples.
KEYWORD_WEIGHT = 3.0

#: Evidence from examples alone must add up to more than one distinctive word to be trusted.
MIN_EXAMPLE_EVIDENCE = 1.5

#: Words at least this long may carry one typo and still match a keyword.
TYPO_MIN_LENGTH = 7

#: At most this many departments are offered to an unsure citizen (plus "Other").
MAX_CANDIDATES = 4

#: Evidence by meaning must reach this before it routes; below, the keyword decision stands.
#: Six random content words (ranks 500-20,000) reach it and lead clearly one time in eight
#: on the shared routing file (median best 0.25), so a lone faint likeness never routes.
MIN_MEANING_EVIDENCE = 0.4

#: At most this many likenesses are named in a reason.
SHOWN_LIKENESSES = 3

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'\u2019")

# Common English words that say nothing about which department a message is for.
# Applied to English text only; idf weighting handles the rest.
_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before
    being below between both but by can cant could couldnt did didnt do does doesnt doing dont
    down during each few for from further had hadnt has hasnt have havent having he hed hes her
    here hers herself him himself his how i id ill im ive if in into is isnt it its itself lets
    me more most my myself no nor not of off on once only or other ought our ours ourselves out
    over own same she should shouldnt so some such than that thats the their theirs them
    themselves then there theres these they theyd theyll theyre theyve this those through to too
    under until up very was wasnt we wed well were weve werent what whats when where which while
    who whos whom why will with wont would wouldnt you youd youll youre youve your yours yourself
    yourselves hi hello dear please thanks thank just also get gets got getting need needs want
    wants wanted like one two three anyone someone something anything nothing nobody everyone
    everything still yet really already ever every even since day days week weeks month months
    year years today tonight yesterday tomorrow morning evening time times weekend monday tuesday
    wednesday thursday friday saturday sunday ago last next first now never always often
    sometimes back away behind along around across near outside inside look looks looked looking think thought
    know knew tell told say said see seen saw ask asked come came comes coming go goes going gone
    went make made take took taken give gave keep keeps kept put try tried call called use used
    let find found seem seems thing things way people lot lots place number bit kind sort part
    good bad big little new old much many another sure right wrong
    """.split(),  # noqa: SIM905 - a word list reads and diffs best as plain text
)


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a message goes: a department key, or ``None`` when the citizen must choose.

    ``candidates`` lists the departments to offer, best first, only when unsure.
    """

    department: str | None
    confidence: float
    reason: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Keyword:
    department: str
    text: str
    forms: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    keyword: _Keyword
    seen_as: str


@dataclass(frozen=True, slots=True)
class _Token:
    folded: str
    original: str


def _tokens(text: str) -> list[_Token]:
    return [_Token(match.group().casefold().translate(_APOSTROPHES), match.group()) for match in _WORD.finditer(text)]


def _plural_forms(word: str) -> frozenset[str]:
    """Return the word with its simple English plural (s, es, ies) or singular."""
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


def _stem(word: str) -> str:
    """Strip common English endings so "collected", "collection" and "collects" meet."""
    if len(word) <= 3:  # noqa: PLR2004 - nothing to strip from short words
        return word
    for ending, replacement in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if word.endswith(ending):
            word = word[: -len(ending)] + replacement
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    for ending in ("ing", "ed", "ion"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:  # noqa: PLR2004 - keep a stem of 3+
            word = word[: -len(ending)]
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:  # noqa: PLR2004 - "move"/"moved" both become "mov"
        word = word[:-1]
    return word


def _within_one_edit(typed: str, word: str) -> bool:
    """Tell whether one insertion, deletion, substitution or swap turns ``typed`` into ``word``."""
    if abs(len(typed) - len(word)) > 1 or typed == word:
        return typed == word
    if len(typed) == len(word):
        diff = [index for index, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        if len(diff) == 1:
            return True
        if len(diff) != 2:  # noqa: PLR2004 - a swap of neighbours changes exactly two letters
            return False
        first, second = diff
        return second == first + 1 and typed[first] == word[second] and typed[second] == word[first]
    shorter, longer = sorted((typed, word), key=len)
    return any(longer[:index] + longer[index + 1 :] == shorter for index in range(len(longer)))


def _proper_name_positions(tokens: Sequence[_Token], known: frozenset[str]) -> frozenset[int]:
    """Find words of names such as "Hawthorn Road": addresses and names, not topics.

    A name is a run of two or more capitalised words (not stopwords, not words in
    capitals, which are emphasis) with at least one word the routing file does
    not know: "Council Tax" and "Traffic Lights" stay topics.
    """
    capital = [
        token.original[0].isupper() and not token.original.isupper() and token.folded not in _STOPWORDS
        for token in tokens
    ]
    names: set[int] = set()
    start = 0
    while start < len(tokens):
        end = start
        while end < len(tokens) and capital[end]:
            end += 1
        if end - start >= 2 and any(tokens[index].folded not in known for index in range(start, end)):  # noqa: PLR2004 - one capitalised word may just start a sentence
            names.update(range(start, end))
        start = end + 1
    return frozenset(names)


def _is_english(language: str | None) -> bool:
    return language is None or language.casefold().split("-")[0] in {"en", "eng"}


class _Terms:
    """Weighted words per department for one way of reading text (English or any language)."""

    def __init__(self, documents: Mapping[str, Iterable[str]], *, english: bool) -> None:
        self.english = english
        terms_of = {
            key: {self.term(word) for word in words if self.is_content(word)} for key, words in documents.items()
        }
        count = len(terms_of)
        departments_using: dict[str, list[str]] = defaultdict(list)
        for key, terms in terms_of.items():
            for term in terms:
                departments_using[term].append(key)
        self.weights: dict[str, dict[str, float]] = {}
        for term, keys in departments_using.items():
            # Inverse document frequency scaled so a word only one department uses weighs 1.
            weight = 1.0 if count == 1 else math.log(count / len(keys)) / math.log(count)
            if weight > 0:
                self.weights[term] = dict.fromkeys(keys, weight)

    def is_content(self, word: str) -> bool:
        return not word.isdigit() and not (self.english and word in _STOPWORDS)

    def term(self, word: str) -> str:
        return _stem(word) if self.english else word


class Router:
    """Routes a citizen's first message using one routing configuration, prepared once."""

    def __init__(
        self,
        config: RoutingConfig,
        *,
        vectors: WordVectors | None = None,
    ) -> None:
        """Index the keywords and example words of every department, and their meaning.

        ``vectors``: the word vectors to route by meaning with (the app passes
        ``load_installed_vectors()``); ``None`` routes by keywords and examples only.
        """
        self._config = config
        self._order = {key: position for position, key in enumerate(config.department_keys)}
        self._by_first_word: dict[str, list[_Keyword]] = defaultdict(list)
        self._typo_keywords: list[_Keyword] = []
        known: set[str] = set()
        for dept in config.departments:
            for text in dept.keywords:
                words = [token.folded for token in _tokens(text)]
                if not words:
                    continue
                forms = (*(frozenset((word,)) for word in words[:-1]), _plural_forms(words[-1]))
                keyword = _Keyword(dept.key, text, forms)
                known.update(*forms)
                for form in forms[0]:
                    self._by_first_word[form].append(keyword)
                if len(words) == 1 and len(words[0]) >= TYPO_MIN_LENGTH:
                    self._typo_keywords.append(keyword)
        self._known = frozenset(known)
        rule_words = {
            dept.key: [token.folded for text in (dept.name, *dept.keywords) for token in _tokens(text)]
            for dept in config.departments
        }
        self._terms: dict[bool, _Terms] = {}
        for english in (True, False):
            documents = {key: list(words) for key, words in rule_words.items()}
            for dept in config.departments:
                for example in dept.examples:
                    tokens = _tokens(example)
                    names = _proper_name_positions(tokens, self._known) if english else frozenset()
                    documents[dept.key].extend(token.folded for index, token in enumerate(tokens) if index not in names)
            self._terms[english] = _Terms(documents, english=english)
        self._meaning = None if vectors is None else self._meaning_index(vectors)

    def _meaning_index(self, vectors: WordVectors) -> MeaningIndex | None:
        """Index each department's name, keywords (as phrases and words) and example words by meaning."""
        terms: dict[str, list[tuple[str, ...]]] = {}
        for dept in self._config.departments:
            found: list[tuple[str, ...]] = []
            for keyword in dept.keywords:
                words = tuple(token.folded for token in _tokens(keyword))
                if len(words) > 1:
                    found.append(words)
            for text in (dept.name, *dept.keywords, *dept.examples):
                tokens = _tokens(text)
                names = _proper_name_positions(tokens, self._known)
                found.extend(
                    (token.folded,)
                    for index, token in enumerate(tokens)
                    if index not in names and self._terms[True].is_content(token.folded)
                )
            terms[dept.key] = found
        try:
            return MeaningIndex(vectors, terms)
        except ValueError:
            # A department whose words the vectors do not know (another language, say) cannot be
            # compared by meaning with the rest; keyword routing stays as it is.
            return None

    def route(self, text: str, *, language: str | None = None) -> Decision:
        """Decide where ``text`` goes; ``language`` (e.g. "en", "pl") picks how words are read.

        English (or unknown) text gets stopwords, stemming and proper-name
        detection; other languages are matched word for word.
        """
        english = _is_english(language)
        tokens = _tokens(text)
        names = _proper_name_positions(tokens, self._known) if english else frozenset()
        hits, ignored = self._keyword_hits(tokens, names)
        scores: dict[str, float] = defaultdict(float)
        keywords_of: dict[str, list[str]] = defaultdict(list)
        for hit in hits:
            scores[hit.keyword.department] += KEYWORD_WEIGHT
            shown = repr(hit.keyword.text)
            if hit.seen_as.casefold() not in _plural_forms(hit.keyword.text.casefold()):
                shown += f" (as {hit.seen_as!r})"
            keywords_of[hit.keyword.department].append(shown)

        covered = {index for hit in hits for index in range(hit.start, hit.end)}
        terms = self._terms[english]
        words_of: dict[str, list[str]] = defaultdict(list)
        shared = _add_shared_words(tokens, covered | names, terms, scores, words_of)

        ranked = sorted(scores, key=lambda key: (-scores[key], self._order[key]))
        note = f"; ignored {', '.join(ignored)} inside names" if ignored else ""

        def why(key: str) -> str:
            parts = []
            if keywords_of[key]:
                parts.append("keywords " + ", ".join(keywords_of[key]))
            if words_of[key]:
                parts.append("words in common " + ", ".join(words_of[key]))
            return f"{key} {scores[key]:.1f} ({'; '.join(parts)})"

        decision = self._decide(ranked, scores, why, note)
        weak = not ranked or scores[ranked[0]] < MIN_EXAMPLE_EVIDENCE
        if self._meaning is None or not english or (decision.department is not None and not weak):
            return decision
        # In a tie the words in common already had their say and did not settle it: only the
        # words the keywords and examples do not know may, by their meaning.
        spent = covered if weak else covered | shared
        words = [token.folded for index, token in enumerate(tokens) if index not in spent | names]
        return self._by_meaning([word for word in words if terms.is_content(word)], decision, weak=weak, note=note)

    def _by_meaning(self, words: Sequence[str], decision: Decision, *, weak: bool, note: str) -> Decision:
        """Settle a weak, absent or tied (``weak`` false) keyword decision by the meaning of ``words``.

        In a tie only the tied departments compete.
        """
        if self._meaning is None:
            return decision
        pool = self._meaning.departments if weak else decision.candidates
        scores = self._meaning.scores(words)
        ranked = sorted(pool, key=lambda key: (-scores[key].score, self._order[key]))
        best = scores[ranked[0]].score
        if best < MIN_MEANING_EVIDENCE:
            return decision
        close = [key for key in ranked if scores[key].score >= best * self._config.unsure_ratio]
        runner_up = scores[ranked[1]].score if len(ranked) > 1 else 0.0
        confidence = round((1 - math.exp(-best / KEYWORD_WEIGHT)) * (1 - runner_up / best), 2)
        settled = "no keyword decides" if weak else "the keywords tie"
        if len(close) > 1:
            if decision.department is None:
                return decision
            shown = tuple(close[:MAX_CANDIDATES])
            reason = f"unsure, {settled} and by meaning {'; '.join(_meaning_why(scores[key]) for key in shown)}{note}"
            return Decision(None, confidence, reason, shown)
        runner = f"; runner-up {_meaning_why(scores[ranked[1]])}" if len(ranked) > 1 and runner_up > 0 else ""
        reason = f"{settled}; by meaning {_meaning_why(scores[ranked[0]])}{runner}{note}"
        return Decision(ranked[0], confidence, reason)

    def _decide(
        self,
        ranked: Sequence[str],
        scores: Mapping[str, float],
        why: Callable[[str], str],
        note: str,
    ) -> Decision:
        fallback = self._config.fallback
        if not ranked:
            return Decision(fallback, 0.0, f"no keyword or example matched: fallback {fallback}{note}")
        best = scores[ranked[0]]
        close = [key for key in ranked if scores[key] >= best * self._config.unsure_ratio]
        runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
        # Strength of the evidence (one keyword gives 0.63) times the lead over the runner-up.
        confidence = round((1 - math.exp(-best / KEYWORD_WEIGHT)) * (1 - runner_up / best), 2)
        if best < MIN_EXAMPLE_EVIDENCE:
            if ranked == [fallback]:
                return Decision(fallback, confidence, f"only weak evidence, for the fallback: {why(fallback)}{note}")
            weak = tuple(ranked[:MAX_CANDIDATES])
            reason = f"unsure, only weak evidence from examples: {'; '.join(why(key) for key in weak)}{note}"
            return Decision(None, confidence, reason, weak)
        if len(close) > 1:
            shown = tuple(close[:MAX_CANDIDATES])
            ratio = f"{self._config.unsure_ratio:.0%}"
            reason = f"unsure, scores within {ratio} of the best: {'; '.join(why(key) for key in shown)}{note}"
            return Decision(None, confidence, reason, shown)
        runner = f"; runner-up {why(ranked[1])}" if len(ranked) > 1 else ""
        return Decision(ranked[0], confidence, f"{why(ranked[0])}{runner}{note}")

    def _keyword_hits(self, tokens: Sequence[_Token], names: frozenset[int]) -> tuple[list[_Hit], list[str]]:
        """Find keywords in the message, longest first, each counted once; also the ones inside names."""
        found: list[_Hit] = []
        for start, token in enumerate(tokens):
            candidates = self._by_first_word.get(token.folded, [])
            for keyword in candidates:
                end = start + len(keyword.forms)
                if end <= len(tokens) and all(
                    tokens[start + offset].folded in forms for offset, forms in enumerate(keyword.forms)
                ):
                    seen_as = " ".join(item.original for item in tokens[start:end])
                    found.append(_Hit(start, end, keyword, seen_as))
            if not candidates and len(token.folded) >= TYPO_MIN_LENGTH:
                found.extend(
                    _Hit(start, start + 1, keyword, token.original)
                    for keyword in self._typo_keywords
                    if keyword.text[0].casefold() == token.folded[0]
                    and any(_within_one_edit(token.folded, form) for form in keyword.forms[0])
                )
        longest = [
            hit
            for hit in found
            if not any(
                other.start <= hit.start and hit.end <= other.end and other.end - other.start > hit.end - hit.start
                for other in found
            )
        ]
        hits: list[_Hit] = []
        ignored: list[str] = []
        seen: set[tuple[str, str]] = set()
        for hit in longest:
            if all(index in names for index in range(hit.start, hit.end)):
                if repr(hit.seen_as) not in ignored:
                    ignored.append(repr(hit.seen_as))
                continue
            # "pothole" and "potholes" in the file, or a word said twice, count once.
            said = " ".join(_stem(token.folded) for token in tokens[hit.start : hit.end])
            identity = (hit.keyword.department, said)
            if identity not in seen:
                seen.add(identity)
                hits.append(hit)
        return hits, ignored


def _meaning_why(score: MeaningScore) -> str:
    likenesses = ", ".join(
        f"{likeness.word!r} like {likeness.like!r} ({likeness.similarity:.2f})"
        for likeness in score.likenesses[:SHOWN_LIKENESSES]
    )
    return f"{score.department} {score.score:.2f} (similar in meaning: {likenesses})"


def _add_shared_words(
    tokens: Sequence[_Token],
    skip: set[int] | frozenset[int],
    terms: _Terms,
    scores: dict[str, float],
    words_of: dict[str, list[str]],
) -> set[int]:
    """Add the weight of each word shared with a department to its score; return where those words are."""
    counted: set[str] = set()
    shared: set[int] = set()
    for index, token in enumerate(tokens):
        term = terms.term(token.folded)
        if index in skip or not terms.is_content(token.folded) or term in counted:
            continue
        counted.add(term)
        if term in terms.weights:
            shared.add(index)
        for key, weight in terms.weights.get(term, {}).items():
            scores[key] += weight
            words_of[key].append(repr(token.folded))
    return shared
