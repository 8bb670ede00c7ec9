"""The saved-answers file (``answers.yaml`` next to the routing file): schema and a loader reporting problems by line.

```yaml
answers:
  - key: pothole-received
    title: Pothole report received
    departments: [roads]          # optional: every department when left out
    text:
      en: "Thank you, {citizen_name}. We will inspect the road; your reference is {reference}."
      es: "Gracias, {citizen_name}. Revisaremos la calle; su referencia es {reference}."
```
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.saved_answers import PLACEHOLDERS, SavedAnswer, SavedAnswers
from config.routing_file import (
    DEPARTMENT_KEY_PATTERN,
    LanguageCode,
    Problem,
    RoutingConfig,
    RoutingFileError,
    _duplicate_keys,
    _error_loc,
    _line_of,
)

#: The answers file's name, looked for next to the routing file.
ANSWERS_FILENAME = "answers.yaml"

ANSWER_KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


def answers_path(routing_file: Path) -> Path:
    """Where the answers file for ``routing_file`` lives: next to it."""
    return routing_file.with_name(ANSWERS_FILENAME)


def _check_placeholders(text: str) -> str:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        msg = f"the text has an unmatched '{{' or '}}' ({error}): write '{{{{' or '}}}}' for a literal brace"
        raise ValueError(msg) from error
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS))
        msg = f"unknown placeholder {', '.join(f'{{{name}}}' for name in unknown)}: use {allowed}"
        raise ValueError(msg)
    return text


class AnswerEntry(BaseModel):
    """One saved answer as written in the file."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    key: Annotated[str, Field(pattern=ANSWER_KEY_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    departments: tuple[Annotated[str, Field(pattern=DEPARTMENT_KEY_PATTERN)], ...] = ()
    text: Annotated[dict[LanguageCode, Annotated[str, Field(min_length=1)]], Field(min_length=1)]

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, text: dict[str, str]) -> dict[str, str]:
        for value in text.values():
            _check_placeholders(value)
        return text


class AnswersFile(BaseModel):
    """The whole file: a list of answers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answers: tuple[AnswerEntry, ...] = ()


def load_answers(path: Path, routing: RoutingConfig) -> SavedAnswers:
    """Read and validate the answers file against ``routing``; a missing file is no answers at all."""
    if not path.exists():
        return SavedAnswers(office_language=routing.office_language)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RoutingFileError([Problem(str(path), 1, f"cannot read the answers file: {error}")]) from error
    return load_answers_text(text, str(path), routing)


def load_answers_text(text: str, filename: str, routing: RoutingConfig) -> SavedAnswers:
    """Validate answers YAML given as text; ``filename`` is only used in the messages."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise RoutingFileError([Problem(filename, line, f"not valid YAML: {error.problem}")]) from error
    except yaml.YAMLError as error:
        raise RoutingFileError([Problem(filename, 1, f"not valid YAML: {error}")]) from error
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise RoutingFileError([Problem(filename, 1, "the answers file must be a mapping with 'answers:' in it")])
    problems = [Problem(filename, line, message) for line, message in _duplicate_keys(root)] if root else []
    parsed: AnswersFile | None = None
    try:
        parsed = AnswersFile.model_validate(data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = _error_loc(detail)
            line = _line_of(root, loc, detail["type"]) if root is not None else 1
            problems.append(Problem(filename, line, _explain(data, loc, detail)))
    if parsed is not None:
        problems.extend(_cross_check(parsed, routing, filename, root))
    if problems or parsed is None:
        raise RoutingFileError(problems)
    answers = tuple(
        SavedAnswer(key=entry.key, title=entry.title, texts=dict(entry.text), departments=entry.departments)
        for entry in parsed.answers
    )
    return SavedAnswers(answers, office_language=routing.office_language)


def _cross_check(parsed: AnswersFile, routing: RoutingConfig, filename: str, root: yaml.Node | None) -> list[Problem]:
    def at(*loc: str | int) -> int:
        return _line_of(root, loc, "cross") if root is not None else 1

    problems: list[Problem] = []
    seen: dict[str, int] = {}
    known = routing.department_keys
    for index, entry in enumerate(parsed.answers):
        if entry.key in seen:
            message = f"answer key {entry.key!r} is used twice (also answer number {seen[entry.key] + 1})"
            problems.append(Problem(filename, at("answers", index, "key"), message))
        seen.setdefault(entry.key, index)
        for number, department in enumerate(entry.departments):
            if department not in known:
                message = f"answer {entry.key!r}: no department {department!r}; known: {', '.join(known)}"
                problems.append(Problem(filename, at("answers", index, "departments", number), message))
        if routing.office_language not in entry.text:
            message = (
                f"answer {entry.key!r} has no text in the office language {routing.office_language!r}: "
                "add it, citizens whose language the answer lacks get that one"
            )
            problems.append(Problem(filename, at("answers", index, "text"), message))
    return problems


def _explain(data: Mapping[str, object], loc: tuple[str | int, ...], detail: Mapping[str, object]) -> str:
    answers = data.get("answers")
    entry = answers[loc[1]] if len(loc) > 1 and isinstance(answers, list) and isinstance(loc[1], int) else None
    key = entry.get("key") if isinstance(entry, dict) else None
    where = f"answer {key!r}: " if isinstance(key, str) else ""
    field = next((str(part) for part in reversed(loc) if isinstance(part, str) and part != "[key]"), "")
    if detail["type"] == "extra_forbidden":
        model: type[BaseModel] = AnswerEntry if "answers" in loc[:-1] else AnswersFile
        return f"{where}unknown key '{field}': allowed keys are {', '.join(model.model_fields)}"
    if detail["type"] == "missing":
        return f"{where}'{field}' is missing: add '{field}:'"
    if detail["type"] == "string_pattern_mismatch" and field == "key":
        return f"{where}key {detail['input']!r} is not valid: use lowercase letters, digits, '-' or '_'"
    return f"{where}{field}: {str(detail['msg']).removeprefix('Value error, ')}"
