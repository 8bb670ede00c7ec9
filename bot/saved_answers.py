"""A department's saved answers: prepared replies staff send with ``!answer KEY`` in Slack or the desk's picker.

Pure values, loaded from the answers file next to the routing file (``config.answers_file``). An answer has a
text per language with the placeholders ``{reference}``, ``{citizen_name}`` and ``{department}``; the citizen
gets the text in their language when the answer has it, else the office language's (the loader insists on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

#: The placeholders an answer's text may use.
PLACEHOLDERS = frozenset({"reference", "citizen_name", "department"})


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """One prepared reply: ``departments`` empty means every department may use it."""

    key: str
    title: str
    texts: Mapping[str, str]
    departments: tuple[str, ...] = ()

    def serves(self, department: str) -> bool:
        """Whether staff of ``department`` may send it."""
        return not self.departments or department in self.departments

    def text_in(self, language: str | None, office_language: str) -> tuple[str, str]:
        """(language, text): the citizen's language when the answer has it, else the office language."""
        code = (language or "").split("-")[0]
        if code in self.texts:
            return code, self.texts[code]
        return office_language, self.texts[office_language]

    def render(self, language: str | None, office_language: str, **fields: str) -> tuple[str, str]:
        """(language, text) with ``reference``, ``citizen_name`` and ``department`` filled in."""
        code, text = self.text_in(language, office_language)
        return code, text.format(**{name: fields.get(name, "") for name in PLACEHOLDERS})


@dataclass(frozen=True, slots=True)
class SavedAnswers:
    """Every saved answer, in file order; ``SavedAnswers()`` is none at all."""

    answers: tuple[SavedAnswer, ...] = ()
    office_language: str = "en"
    _by_key: Mapping[str, SavedAnswer] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", MappingProxyType({answer.key: answer for answer in self.answers}))

    def for_department(self, department: str) -> tuple[SavedAnswer, ...]:
        """The answers ``department``'s staff may send, in file order."""
        return tuple(answer for answer in self.answers if answer.serves(department))

    def find(self, key: str, department: str) -> SavedAnswer | None:
        """The answer with ``key`` (any case) if ``department`` may send it."""
        answer = self._by_key.get(key.strip().lower())
        return answer if answer is not None and answer.serves(department) else None


class AnswerBook(Protocol):
    """What the relay and the desk read of the saved answers: ``SavedAnswers``, or ``LiveAnswers`` that reload."""

    @property
    def office_language(self) -> str:
        """The language every answer has a text in."""

    def for_department(self, department: str) -> tuple[SavedAnswer, ...]:
        """The answers ``department``'s staff may send, in file order."""

    def find(self, key: str, department: str) -> SavedAnswer | None:
        """The answer with ``key`` (any case) if ``department`` may send it."""


class LiveAnswers:
    """The saved answers in force; a routing reload ``swap``s in the answers file read with it (one assignment)."""

    __slots__ = ("_answers",)

    def __init__(self, answers: SavedAnswers) -> None:
        self._answers = answers

    @property
    def current(self) -> SavedAnswers:
        """The answers in force."""
        return self._answers

    def swap(self, answers: SavedAnswers) -> None:
        """From now on, offer ``answers``."""
        self._answers = answers

    @property
    def office_language(self) -> str:
        """See ``AnswerBook.office_language``."""
        return self._answers.office_language

    def for_department(self, department: str) -> tuple[SavedAnswer, ...]:
        """See ``AnswerBook.for_department``."""
        return self._answers.for_department(department)

    def find(self, key: str, department: str) -> SavedAnswer | None:
        """See ``AnswerBook.find``."""
        return self._answers.find(key, department)
