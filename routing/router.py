"""The router: from a citizen's first message to a department, with a confidence, the reason and the language.

Two kinds of evidence, in any language the office expects:

- **Keywords** (``routing.keywords``) are the strongest: each one a message
  contains moves its department up by a keyword bonus.
- **Meaning**: the message and every department's name, keywords, examples
  (and confirmed learned examples, when the routing file allows) are embedded
  by a multilingual sentence encoder (``routing.encoder``), once per routing
  file; a department's likeness weighs three channels (``routing.meaning``):
  its closest examples, its closest keywords (each embedded alone) and its name.
  In an English office, a message in English is also compared by English word
  vectors (``routing.encoder.load_word_encoder``), a second opinion on its wording;
  when keywords and wording alone make one department lead by
  ``Calibration.sure_by_wording``, the (costly) sentence encoder is not asked.

A department's score is its likeness plus its keyword bonus. The best wins when
it leads the runner-up by the unsure margin; otherwise the citizen chooses among
the departments within that margin of the best. The weights and the margin are
``Calibration.office`` for a message in the office language (the language of the
routing file's texts) and ``Calibration.other`` for one in another language. A message nothing
claims (no keyword, no department text within ``Calibration.min_likeness``) goes
to the fallback. The calibration was chosen on our own development cases
(tests/routing/dev_cases_*.csv) by ``python -m routing.calibrate``, under the
rule written in README ("The routing file": how the constants were chosen).

Without an encoder (unit tests of the keyword rules), or for a message of one
or two words, which says too little to compare by meaning, the words a message
shares with a department's examples are the weak evidence instead, weighted by
how few departments use them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from config.routing_file import SHIPPED_LANGUAGES
from routing.encoder import load_encoder, load_word_encoder
from routing.keywords import KeywordIndex, Token, name_positions, tokens
from routing.language import LanguageIdentifier
from routing.meaning import CALIBRATION, DepartmentText, MeaningIndex, Weights
from routing.shared_words import SharedWords

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from numpy.typing import NDArray

    from config.routing_file import RoutingConfig
    from routing.encoder import SentenceEncoder
    from routing.meaning import Calibration, Weighing

#: Without an encoder: one keyword counts as much as three words found only in one department's examples.
KEYWORD_WEIGHT = 3.0

#: Without an encoder: evidence from examples alone must add up to more than one distinctive word.
MIN_EXAMPLE_EVIDENCE = 1.5


#: With an encoder: a message of fewer words ("Hola", "bins") is too short to judge by meaning: keywords only.
MIN_MEANING_WORDS = 3

#: At most this many departments are offered to an unsure citizen (plus "Other").
MAX_CANDIDATES = 4


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a message goes: a department key, or ``None`` when the citizen must choose.

    ``candidates`` lists the departments to offer, best first, only when unsure.
    ``language`` is the language identified in the text (ISO 639-1), else the
    ``language`` the caller gave (the platform's locale), else ``None``.
    """

    department: str | None
    confidence: float
    reason: str
    candidates: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Cosines:
    """A message's cosine to every department text, by the sentence encoder and (if any) by the word vectors."""

    meaning: NDArray[np.float32]
    wording: NDArray[np.float32] | None


@dataclass(frozen=True, slots=True)
class LearnedExample:
    """A message staff or the citizen confirmed belongs to ``department`` (a transfer's target, a menu choice)."""

    text: str
    department: str


class Router:
    """Routes a citizen's first message using one routing configuration, prepared once."""

    def __init__(
        self,
        config: RoutingConfig,
        *,
        encoder: SentenceEncoder | None,
        word_encoder: SentenceEncoder | None = None,
        identifier: LanguageIdentifier | None = None,
        learned: Sequence[LearnedExample] = (),
        calibration: Calibration = CALIBRATION,
    ) -> None:
        """Index the keywords and embed every department's texts once.

        ``encoder``: the sentence encoder (the app passes ``load_encoder()``);
        ``None`` routes by keywords and shared words only. ``word_encoder``: the
        office language's word vectors (``load_word_encoder``), weighed by the
        calibration's ``wording_weight``; used only with ``encoder``. ``identifier``: tells
        the message's language. ``learned``: confirmed examples, used only when
        the routing file sets ``learning: {use_confirmed_examples: true}``.
        """
        self._config = config
        self._calibration = calibration
        self._encoder = encoder
        self._word_encoder = word_encoder
        self._identifier = identifier
        self._order = {key: position for position, key in enumerate(config.department_keys)}
        self._keywords = KeywordIndex(
            ((dept.key, keyword) for dept in config.departments for keyword in dept.keywords),
            languages=config.languages,
            office_language=config.office_language,
        )
        self._shared = SharedWords(config, self._keywords)
        known = set(config.department_keys)
        use_learned = config.learning.use_confirmed_examples
        self._learned = tuple(example for example in learned if use_learned and example.department in known)
        self._meaning: MeaningIndex | None = None
        self._wording: MeaningIndex | None = None
        if encoder is not None:
            texts = self._department_texts()
            self._meaning = MeaningIndex(texts, departments=config.department_keys, encoder=encoder)
            if word_encoder is not None:
                self._wording = MeaningIndex(texts, departments=config.department_keys, encoder=word_encoder)

    def _department_texts(self) -> list[DepartmentText]:
        texts: list[DepartmentText] = []
        for dept in self._config.departments:
            texts.extend(
                DepartmentText(dept.key, name, "name") for name in dict.fromkeys((dept.name, *dept.names.values()))
            )
            if dept.keywords:
                texts.append(DepartmentText(dept.key, f"{dept.name}: {', '.join(dept.keywords)}", "keyword list"))
            texts.extend(DepartmentText(dept.key, keyword, "keyword") for keyword in dept.keywords)
            texts.extend(DepartmentText(dept.key, example, "example") for example in dept.examples)
        texts.extend(DepartmentText(example.department, example.text, "learned example") for example in self._learned)
        return texts

    def reloaded(self, config: RoutingConfig, *, learned: Sequence[LearnedExample] = ()) -> Router:
        """A router for a changed routing file that keeps this one's loaded models (only the file is embedded again)."""
        identifier = self._identifier
        if identifier is not None and identifiable_languages(config) != identifier.languages:
            identifier = LanguageIdentifier(identifiable_languages(config))
        word_encoder = self._word_encoder
        if config.office_language != self._config.office_language and self._encoder is not None:
            word_encoder = load_word_encoder(config.office_language)
        return Router(
            config,
            encoder=self._encoder,
            word_encoder=word_encoder,
            identifier=identifier,
            learned=learned,
            calibration=self._calibration,
        )

    def language_of(self, text: str, *, hint: str | None = None) -> str | None:
        """The language identified in ``text``; ``hint`` (the platform's locale) when the text is too short."""
        identified = self._identifier.identify(text).language if self._identifier is not None else None
        if identified is not None:
            return identified
        return hint.split("-")[0].casefold() if hint else None

    def route(self, text: str, *, language: str | None = None) -> Decision:
        """Decide where ``text`` goes; ``language`` (the platform's locale) stands in when the text is too short."""
        [decision] = self.route_all([(text, language)])
        return decision

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> list[Decision]:
        """Decide where each ``(text, language)`` goes, as ``route`` would one by one.

        The texts judged by meaning go through the sentence encoder together: a batch costs
        less per text than one text at a time (the weights are read once per batch).
        """
        readings = [self._read(text, language) for text, language in questions]
        texts = [text for text, _ in questions]
        judged = self._judged([words for _, words, *_ in readings])
        wording = self._wording_cosines(texts, judged)
        sure = {}
        for index, row in wording.items():
            identified, _, _, keyword_hits, note = readings[index]
            if (decision := self._by_wording_alone(row, identified, keyword_hits, note)) is not None:
                sure[index] = decision
        cosines = self._cosines(texts, [index for index in judged if index not in sure], wording)
        decisions = []
        for index, (identified, words, names, keyword_hits, note) in enumerate(readings):
            if index in sure:
                decision = sure[index]
            elif index in cosines:
                decision = self._by_meaning(cosines[index], keyword_hits, note, self._weighing(identified))
            else:
                decision = self._by_shared_words(words, names, keyword_hits, note)
            decisions.append(
                Decision(decision.department, decision.confidence, decision.reason, decision.candidates, identified)
            )
        return decisions

    def ranking(self, text: str) -> tuple[str | None, tuple[tuple[str, float], ...]]:
        """The language identified and every department's score by meaning, best first (for calibration).

        Empty when the margin plays no part: a message judged without meaning, or one nothing is alike.
        """
        identified, words, _, keyword_hits, _ = self._read(text, None)
        judged = self._judged([words])
        cosines = self._cosines([text], judged, self._wording_cosines([text], judged)).get(0)
        if cosines is None:
            return identified, ()
        score, closest = self._scores(cosines, keyword_hits, self._weighing(identified))
        if self._unclaimed(keyword_hits, closest):
            return identified, ()
        return identified, tuple(sorted(score.items(), key=lambda item: (-item[1], self._order[item[0]])))

    def _judged(self, words: Sequence[Sequence[Token]]) -> list[int]:
        """Which texts (given by their words) are judged by meaning: with an encoder, those of enough words."""
        if self._meaning is None:
            return []
        return [index for index, found in enumerate(words) if len(found) >= MIN_MEANING_WORDS]

    def _wording_cosines(self, texts: Sequence[str], judged: Sequence[int]) -> dict[int, NDArray[np.float32]]:
        """Each judged text's cosine to every department text by the word vectors (none without them)."""
        wording, word_encoder = self._wording, self._word_encoder
        if wording is None or word_encoder is None or not judged:
            return {}
        rows = word_encoder.encode([texts[index] for index in judged]) @ wording.matrix.T
        return dict(zip(judged, rows, strict=True))

    def _cosines(
        self, texts: Sequence[str], judged: Sequence[int], wording: Mapping[int, NDArray[np.float32]]
    ) -> dict[int, Cosines]:
        """Each judged text's cosines to every department text: the sentence encoder's (one batch) and wording's."""
        meaning, encoder = self._meaning, self._encoder
        if meaning is None or encoder is None or not judged:
            return {}
        rows = encoder.encode([texts[index] for index in judged]) @ meaning.matrix.T
        return {index: Cosines(row, wording.get(index)) for index, row in zip(judged, rows, strict=True)}

    def _read(
        self, text: str, language: str | None
    ) -> tuple[str | None, list[Token], frozenset[int], dict[str, list[tuple[str, set[int]]]], str]:
        """The message's language, words, names and keywords, and a note of keywords ignored inside names."""
        identified = self.language_of(text, hint=language)
        words = tokens(text)
        reading = identified or self._config.office_language
        names = name_positions(words, self._keywords.known) if reading == "en" else frozenset()
        keyword_hits, ignored = self._keyword_hits(words, names, reading)
        note = f"; ignored {', '.join(ignored)} inside names" if ignored else ""
        return identified, words, names, keyword_hits, note

    def _keyword_hits(
        self, words: Sequence[Token], names: frozenset[int], language: str
    ) -> tuple[dict[str, list[tuple[str, set[int]]]], list[str]]:
        """Keywords per department as shown in a reason, with the word positions they cover."""
        found: dict[str, list[tuple[str, set[int]]]] = defaultdict(list)
        ignored: list[str] = []
        seen: set[tuple[str, str]] = set()
        for hit in self._keywords.hits(words, language=language):
            if all(index in names for index in range(hit.start, hit.end)):
                if repr(hit.seen_as) not in ignored:
                    ignored.append(repr(hit.seen_as))
                continue
            identity = (hit.keyword.department, self._keywords.said(words, hit))
            if identity in seen:
                continue
            seen.add(identity)
            shown = repr(hit.keyword.text)
            if hit.how != "as written":
                shown += f" (as {hit.seen_as!r}{', a typo' if hit.how == 'typo' else ''})"
            found[hit.keyword.department].append((shown, set(range(hit.start, hit.end))))
        return found, ignored

    def _weighing(self, language: str | None) -> Weighing:
        """How to weigh a message in ``language``: as one in the office language, or as one in another."""
        same = language is None or language == self._config.office_language
        return self._calibration.office if same else self._calibration.other

    def _scores(
        self,
        cosines: Cosines,
        keyword_hits: Mapping[str, list[tuple[str, set[int]]]],
        weighing: Weighing,
    ) -> tuple[dict[str, float], dict[str, tuple[float, DepartmentText]]]:
        """Each department's score (likeness plus keyword bonus) and its closest text with that text's cosine."""
        keys = self._config.department_keys
        meaning = self._meaning
        if meaning is None:
            return dict.fromkeys(keys, 0.0), {}
        likeness = meaning.likeness(cosines.meaning, weighing.weights)
        if cosines.wording is not None:
            likeness = likeness + self._wording_likeness(cosines.wording, weighing)
        closest = {
            key: found for key, found in zip(keys, meaning.closest(cosines.meaning), strict=True) if found is not None
        }
        return self._with_keywords(likeness, keyword_hits, weighing), closest

    def _wording_likeness(self, wording: NDArray[np.float32], weighing: Weighing) -> NDArray[np.float64]:
        """Each department's likeness by the word vectors, pooled as ``weighing`` says, times its weight."""
        if self._wording is None or not weighing.wording_weight:
            return np.zeros(len(self._config.department_keys))
        pooled = Weights(weighing.likeness_of, 0.0, 0.0, pooled=True)
        weighted: NDArray[np.float64] = weighing.wording_weight * self._wording.likeness(wording, pooled)
        return weighted

    def _with_keywords(
        self,
        likeness: NDArray[np.float64],
        keyword_hits: Mapping[str, list[tuple[str, set[int]]]],
        weighing: Weighing,
    ) -> dict[str, float]:
        """Each department's score: its likeness plus the keyword bonus for each keyword found."""
        bonus = weighing.keyword_bonus
        return {
            key: float(likeness[column]) + bonus * len(keyword_hits.get(key, ()))
            for column, key in enumerate(self._config.department_keys)
        }

    def _unclaimed(
        self,
        keyword_hits: Mapping[str, list[tuple[str, set[int]]]],
        closest: Mapping[str, tuple[float, DepartmentText]],
    ) -> bool:
        """No keyword matched and no department text comes within the likeness floor."""
        best = max((cosine for cosine, _ in closest.values()), default=0.0)
        return not keyword_hits and best < self._calibration.min_likeness

    def _by_wording_alone(
        self,
        wording: NDArray[np.float32],
        identified: str | None,
        keyword_hits: Mapping[str, list[tuple[str, set[int]]]],
        note: str,
    ) -> Decision | None:
        """The decision when keywords and wording alone are sure (an office-language message), else ``None``.

        The score is the office score without the sentence encoder's likeness: the word vectors'
        weighted likeness plus the keyword bonus. ``Calibration.sure_by_wording`` is the lead it takes.
        """
        sure, weighing = self._calibration.sure_by_wording, self._calibration.office
        office = identified is None or identified == self._config.office_language
        keys = self._config.department_keys
        if sure is None or self._wording is None or not office or not weighing.wording_weight or len(keys) < 2:  # noqa: PLR2004 - a lead needs a runner-up
            return None
        score = self._with_keywords(self._wording_likeness(wording, weighing), keyword_hits, weighing)
        best, second = sorted(keys, key=lambda key: (-score[key], self._order[key]))[:2]
        lead = score[best] - score[second]
        if lead < sure:
            return None
        nearest = dict(zip(keys, self._wording.closest(wording), strict=True))

        def why(key: str) -> str:
            parts = [_keywords_found(keyword_hits.get(key, ()), weighing.keyword_bonus)]
            near = nearest[key]
            if near is not None:
                parts.append(_closest_in_wording(near, weighing.wording_weight))
            return f"{key} {score[key]:.2f} ({'; '.join(filter(None, parts))})"

        top = nearest[best]
        strength = top[0] if top is not None else 0.0
        confidence = round(min(1.0, lead / (2 * sure)) * min(1.0, max(0.0, strength)), 2)
        reason = (
            f"{why(best)}; runner-up {why(second)}; sure by keywords and wording alone "
            f"(lead {lead:.2f} of at least {sure:.2f}), meaning not weighed{note}"
        )
        return Decision(best, confidence, reason)

    def _by_meaning(
        self,
        cosines: Cosines,
        keyword_hits: Mapping[str, list[tuple[str, set[int]]]],
        note: str,
        weighing: Weighing,
    ) -> Decision:
        """Decide by likeness (``cosines``: the message's to each department text) plus keywords."""
        keys = self._config.department_keys
        margin = weighing.unsure_margin
        score, closest = self._scores(cosines, keyword_hits, weighing)
        nearest_keyword: dict[str, tuple[float, DepartmentText]] = {}
        if self._meaning is not None and weighing.keyword_weight and not weighing.pooled:
            found = self._meaning.closest(cosines.meaning, keywords_only=True)
            nearest_keyword = {key: near for key, near in zip(keys, found, strict=True) if near is not None}
        nearest_wording: dict[str, tuple[float, DepartmentText]] = {}
        if self._wording is not None and cosines.wording is not None and weighing.wording_weight:
            found = self._wording.closest(cosines.wording)
            nearest_wording = {key: near for key, near in zip(keys, found, strict=True) if near is not None}
        ranked = sorted(keys, key=lambda key: (-score[key], self._order[key]))
        best_key = ranked[0]
        runner_up = score[ranked[1]] if len(ranked) > 1 else 0.0

        def why(key: str) -> str:
            parts = []
            if keyword_hits.get(key):
                parts.append(_keywords_found(keyword_hits[key], weighing.keyword_bonus))
            if key in closest:
                cosine, text = closest[key]
                parts.append(f"closest {text.kind} {_quote(text.text)} ({cosine:.2f})")
            if key in nearest_keyword and nearest_keyword[key][1] != closest.get(key, (0.0, None))[1]:
                cosine, text = nearest_keyword[key]
                parts.append(f"closest keyword {_quote(text.text)} ({cosine:.2f}, weighs {weighing.keyword_weight:g})")
            if key in nearest_wording:
                parts.append(_closest_in_wording(nearest_wording[key], weighing.wording_weight))
            return f"{key} {score[key]:.2f} ({'; '.join(parts)})"

        fallback = self._config.fallback
        if self._unclaimed(keyword_hits, closest):
            return Decision(
                fallback,
                0.0,
                f"no keyword matched and nothing is alike in meaning: fallback {fallback}; best {why(best_key)}{note}",
            )
        lead = score[best_key] - runner_up
        strength = closest[best_key][0] if best_key in closest else 0.0
        confidence = round(min(1.0, max(0.0, lead / (2 * margin))) * min(1.0, max(0.0, strength)), 2)
        if lead < margin:
            close = tuple(key for key in ranked if score[best_key] - score[key] < margin)[:MAX_CANDIDATES]
            reason = f"unsure, scores within {margin:.2f} of the best: {'; '.join(why(key) for key in close)}{note}"
            return Decision(None, confidence, reason, close)
        return Decision(
            best_key,
            confidence,
            f"{why(best_key)}; runner-up {why(ranked[1])}{note}" if len(ranked) > 1 else why(best_key) + note,
        )

    def _by_shared_words(
        self,
        words: Sequence[Token],
        names: frozenset[int],
        keyword_hits: Mapping[str, list[tuple[str, set[int]]]],
        note: str,
    ) -> Decision:
        scores: dict[str, float] = defaultdict(float)
        for key, hits in keyword_hits.items():
            scores[key] += KEYWORD_WEIGHT * len(hits)
        covered = {index for hits in keyword_hits.values() for _, where in hits for index in where}
        words_of = self._shared.add(words, covered | names, scores)
        ranked = sorted(scores, key=lambda key: (-scores[key], self._order[key]))

        def why(key: str) -> str:
            parts = []
            if keyword_hits.get(key):
                parts.append("keywords " + ", ".join(shown for shown, _ in keyword_hits[key]))
            if words_of[key]:
                parts.append("words in common " + ", ".join(words_of[key]))
            return f"{key} {scores[key]:.1f} ({'; '.join(parts)})"

        return self._decide(ranked, scores, why, note)

    def _decide(
        self, ranked: Sequence[str], scores: Mapping[str, float], why: Callable[[str], str], note: str
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


def build_router(config: RoutingConfig, *, learned: Sequence[LearnedExample] = ()) -> Router:
    """The router the bridge runs: multilingual meaning, language identification and keywords (1-3 s to build)."""
    identifier = LanguageIdentifier(identifiable_languages(config))
    return Router(
        config,
        encoder=load_encoder(),
        word_encoder=load_word_encoder(config.office_language),
        identifier=identifier,
        learned=learned,
    )


def identifiable_languages(config: RoutingConfig) -> tuple[str, ...]:
    """The languages a message may be identified in: those the office offers, its own, and every shipped one.

    A citizen writing a shipped language the office does not offer must be recognised as such (they are
    answered in the office language and told so in theirs), not mistaken for the nearest offered one.
    """
    return tuple(dict.fromkeys((*config.languages, config.office_language, *SHIPPED_LANGUAGES)))


#: Longest department text quoted in a reason.
_QUOTED = 60


def _keywords_found(hits: Sequence[tuple[str, set[int]]], bonus: float) -> str:
    """The keywords found for one department and what they added, as a reason shows them ("" for none)."""
    if not hits:
        return ""
    return f"keywords {', '.join(shown for shown, _ in hits)} +{bonus * len(hits):.2f}"


def _closest_in_wording(near: tuple[float, DepartmentText], weight: float) -> str:
    """A department's text closest in wording (word vectors), its cosine and the channel's weight."""
    cosine, text = near
    return f"closest in wording {text.kind} {_quote(text.text)} ({cosine:.2f}, weighs {weight:g})"


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _QUOTED else flat[: _QUOTED - 1] + "…")
