"""Which language a citizen wrote in, among the languages the office expects (``py3langid``).

Short texts ("bins", "hello") say too little to tell: the identifier answers
``None`` and the caller uses the platform's locale, else the office language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Fewer letters than this are too few to tell a language by (a greeting, one word).
MIN_LETTERS = 12

#: The identifier's probability (normalised over the expected languages) must reach this.
MIN_PROBABILITY = 0.8


@dataclass(frozen=True, slots=True)
class Identified:
    """The language identified in a text (an ISO 639-1 code), or ``None`` when it is too short to tell."""

    language: str | None
    probability: float


class LanguageIdentifier:
    """Identifies a text's language among ``languages`` only, so an office never gets a language it can't serve."""

    def __init__(self, languages: Sequence[str]) -> None:
        """Load py3langid's model (about 0.5 s) restricted to ``languages`` (ISO 639-1 codes)."""
        from py3langid.langid import MODEL_FILE  # noqa: PLC0415 - heavy: loaded only here
        from py3langid.langid import LanguageIdentifier as Model  # noqa: PLC0415 - heavy: loaded only here

        self.languages = tuple(dict.fromkeys(language.split("-")[0].casefold() for language in languages))
        self._model = Model.from_model_file(MODEL_FILE, norm_probs=True)
        if len(self.languages) > 1:
            self._model.set_languages(list(self.languages))

    def identify(self, text: str) -> Identified:
        """Identify ``text``'s language; ``None`` when it is too short or too unclear to tell."""
        if len(self.languages) == 1:
            return Identified(self.languages[0], 1.0)
        if sum(character.isalpha() for character in text) < MIN_LETTERS:
            return Identified(None, 0.0)
        language, probability = self._model.classify(text)
        if probability < MIN_PROBABILITY:
            return Identified(None, round(float(probability), 2))
        return Identified(str(language), round(float(probability), 2))
