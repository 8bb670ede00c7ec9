"""The routing file: its schema (pydantic models) and a loader that reports every problem by line.

An admin edits one YAML file; ``load_routing`` turns it into a ``RoutingConfig``
or raises ``RoutingFileError`` listing each problem as ``FILE:LINE: message``.
"""

from __future__ import annotations

import difflib
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.office_hours import OfficeHours, parse_duration, parse_week, public_holidays

#: The routing shipped with the package, used when no routing file exists.
EXAMPLE_ROUTING_PATH = Path(__file__).with_name("routing.example.yaml")

#: Default share of the best score that a runner-up must reach to make the router unsure.
DEFAULT_UNSURE_RATIO = 0.75

SLACK_CHANNEL_PATTERN = r"^[CG][A-Z0-9]{2,}$"
#: A Slack user group id (``S…``), or a single user's id (``U…``/``W…``), to mention on escalation.
SLACK_MENTION_PATTERN = r"^[SUW][A-Z0-9]{2,}$"
DEPARTMENT_KEY_PATTERN = r"^[a-z][a-z0-9_-]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

#: The languages the bot speaks out of the box (ISO 639-1): the default of ``languages``.
SHIPPED_LANGUAGES = ("en", "es", "fr", "de", "pl", "ar", "uk", "pt", "it", "tr")

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]

#: The citizen's "Other" menu choice; no department may use it as its key.
RESERVED_KEY = "other"

_DEFER_CROSS_CHECKS = "defer_cross_checks"

DepartmentKeyText = Annotated[str, Field(pattern=DEPARTMENT_KEY_PATTERN)]


def _check_timezone(timezone: str) -> str:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        msg = f"{timezone!r} is not an IANA time zone: write one such as 'Europe/London' or 'UTC'"
        raise ValueError(msg) from error
    return timezone


class PublicHolidays(BaseModel):
    """Public holidays from the ``holidays`` package: ``country`` (ISO 3166-1) and optional ``subdivision``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    country: Annotated[str, Field(min_length=2)]
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known_to_the_package(self) -> Self:
        public_holidays(self.country, self.subdivision)
        return self


class OfficeHoursConfig(BaseModel):
    """A department's ``office_hours``: weekly ``hours``, its ``timezone``, public ``holidays`` and ``closed`` dates."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    hours: Annotated[dict[str, str], Field(min_length=1)]
    timezone: str | None = None
    holidays: PublicHolidays | None = None
    closed: tuple[date, ...] = ()

    @field_validator("hours")
    @classmethod
    def _readable_hours(cls, hours: dict[str, str]) -> dict[str, str]:
        parse_week(hours)
        return hours

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str | None) -> str | None:
        return None if timezone is None else _check_timezone(timezone)

    def build(self, default_zone: str) -> OfficeHours:
        """The pure ``OfficeHours`` these settings describe (``default_zone``: the file's ``timezone``)."""
        calendar = public_holidays(self.holidays.country, self.holidays.subdivision) if self.holidays else None
        return OfficeHours(
            zone=zoneinfo.ZoneInfo(self.timezone or default_zone),
            week=parse_week(self.hours),
            calendar=calendar,
            closed=frozenset(self.closed),
        )


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a routing file, at a line an admin can jump to."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        """Render as ``FILE:LINE: message``, the format editors and CI understand."""
        return f"{self.file}:{self.line}: {self.message}"


class RoutingFileError(Exception):
    """A routing file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        """Keep the problems sorted by line so the report reads top to bottom."""
        self.problems = sorted(problems, key=lambda problem: (problem.file, problem.line))
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _clean_phrases(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    cleaned = tuple(" ".join(value.split()) for value in values)
    blank = [index + 1 for index, value in enumerate(cleaned) if not value]
    if blank:
        positions = ", ".join(str(position) for position in blank)
        msg = f"{what} number {positions} is blank: remove it or write the {what}"
        raise ValueError(msg)
    return cleaned


class Escalation(BaseModel):
    """Where a late answer is escalated: a post in ``slack_channel`` and/or a mention of a Slack user group."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    slack_channel: Annotated[str, Field(pattern=SLACK_CHANNEL_PATTERN)] | None = None
    mention: Annotated[str, Field(pattern=SLACK_MENTION_PATTERN)] | None = None

    @model_validator(mode="after")
    def _somewhere_to_escalate(self) -> Self:
        if self.slack_channel is None and self.mention is None:
            msg = "needs 'slack_channel: <channel id>', 'mention: <user group id>' or both"
            raise ValueError(msg)
        return self


class Department(BaseModel):
    """A department citizens can be routed to, answering in Slack or on the web desk.

    ``languages`` lists the language codes its staff answer in (empty: any);
    ``sign_with_officer_name`` signs staff replies with the officer's name too;
    ``translate_replies: false`` sends its staff replies as typed even with a translation server.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    key: DepartmentKeyText
    name: Annotated[str, Field(min_length=1)]
    slack_channel: Annotated[str, Field(pattern=SLACK_CHANNEL_PATTERN)] | None = None
    desk: Literal["web"] | None = None
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    languages: tuple[Annotated[str, Field(pattern=LANGUAGE_PATTERN)], ...] = ()
    names: dict[LanguageCode, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)
    sign_with_officer_name: bool = False
    #: With a translation server: staff replies reach a citizen of another language translated (False: as typed).
    translate_replies: StrictBool = True
    office_hours: OfficeHoursConfig | None = None
    first_response: str | None = None
    next_response: str | None = None
    escalation: Escalation | None = None
    #: When staff close a case, ask its citizen to rate the answer (1-5) and comment.
    ask_rating: StrictBool = False

    @field_validator("first_response", "next_response")
    @classmethod
    def _readable_target(cls, value: str | None) -> str | None:
        return _check_duration(value)

    @field_validator("key")
    @classmethod
    def _key_not_reserved(cls, key: str) -> str:
        if key == RESERVED_KEY:
            msg = f"{key!r} is reserved for the citizen's 'Other' choice: pick another key"
            raise ValueError(msg)
        return key

    @field_validator("keywords")
    @classmethod
    def _keywords_not_blank(cls, keywords: tuple[str, ...]) -> tuple[str, ...]:
        return _clean_phrases(keywords, "keyword")

    @field_validator("examples")
    @classmethod
    def _examples_not_blank(cls, examples: tuple[str, ...]) -> tuple[str, ...]:
        return _clean_phrases(examples, "example")

    def name_in(self, language: str | None) -> str:
        """The department's name in ``language`` when the file gives one, else ``name``."""
        return self.names.get((language or "").split("-")[0], self.name)

    @model_validator(mode="after")
    def _one_place_to_answer(self) -> Self:
        if (self.slack_channel is None) == (self.desk is None):
            msg = "needs exactly one place to answer: either 'slack_channel: <channel id>' or 'desk: web'"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _escalation_has_a_target(self) -> Self:
        if self.escalation is None:
            return self
        if self.first_response is None and self.next_response is None:
            msg = "escalation needs an answer-time target to escalate: add 'first_response' (and 'next_response')"
            raise ValueError(msg)
        if self.escalation.slack_channel is None and self.slack_channel is None:
            msg = (
                "escalation: a department on the web desk has no Slack thread to mention a group in: "
                "add 'slack_channel: <channel id>' to its escalation"
            )
            raise ValueError(msg)
        return self


class Topic(BaseModel):
    """Something citizens can follow besides whole departments; ``department`` publishes on it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    key: DepartmentKeyText
    name: Annotated[str, Field(min_length=1)]
    department: DepartmentKeyText
    names: dict[LanguageCode, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)


def _topic_faults(topics: object, department_keys: Sequence[object]) -> list[tuple[Loc, str]]:
    """Topics that name no department, or reuse a department's or another topic's key."""
    faults: list[tuple[Loc, str]] = []
    departments = {key for key in department_keys if isinstance(key, str)}
    seen: set[str] = set()
    for index, entry in enumerate(topics if isinstance(topics, list | tuple) else ()):
        key = entry.get("key") if isinstance(entry, dict) else getattr(entry, "key", None)
        owner = entry.get("department") if isinstance(entry, dict) else getattr(entry, "department", None)
        if isinstance(key, str) and (key in departments or key in seen):
            what = "a department's" if key in departments else "another topic's"
            faults.append(
                (("topics", index, "key"), f"topic key {key!r} is {what} key too: give the topic its own key")
            )
        if isinstance(key, str):
            seen.add(key)
        if isinstance(owner, str) and departments and owner not in departments:
            known = ", ".join(sorted(departments))
            faults.append(
                (
                    ("topics", index, "department"),
                    f"topic department {owner!r} is not a department; use one of: {known}",
                )
            )
    return faults


class Learning(BaseModel):
    """What the router may learn from staff: ``use_confirmed_examples`` routes by confirmed examples too."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    use_confirmed_examples: bool = False


class Privacy(BaseModel):
    """Data protection: ``retention_days`` a closed case keeps its personal data (then the daily purge removes it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retention_days: Annotated[int, Field(ge=1, le=36500)] = 730


#: A citizen who does not answer the department menu within this many minutes goes to the fallback.
DEFAULT_MENU_TIMEOUT_MINUTES = 10

#: The longest wait the menu may be given: a week (a case waiting longer is a forgotten case).
MAX_MENU_TIMEOUT_MINUTES = 7 * 24 * 60


class Menu(BaseModel):
    """The department menu: ``timeout_minutes`` after which an unanswered menu's case goes to the fallback."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_minutes: Annotated[int, Field(ge=1, le=MAX_MENU_TIMEOUT_MINUTES, strict=True)] = (
        DEFAULT_MENU_TIMEOUT_MINUTES
    )


class RoutingConfig(BaseModel):
    """The whole routing: departments, the fallback, and how sure the router must be.

    ``unsure_ratio``: a runner-up scoring at least this share of the best makes
    the router unsure, so the citizen chooses.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fallback: DepartmentKeyText
    departments: Annotated[tuple[Department, ...], Field(min_length=1)]
    unsure_ratio: Annotated[float, Field(gt=0, le=1)] = DEFAULT_UNSURE_RATIO
    office_language: LanguageCode = "en"
    languages: Annotated[tuple[LanguageCode, ...], Field(min_length=1)] = SHIPPED_LANGUAGES
    timezone: str = "UTC"
    learning: Learning = Learning()
    privacy: Privacy = Privacy()
    menu: Menu = Menu()
    #: What citizens can follow besides departments (announcements and consultations).
    topics: tuple[Topic, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        return _check_timezone(timezone)

    @model_validator(mode="after")
    def _names_in_spoken_languages(self) -> Self:
        spoken = {*self.languages, self.office_language}
        for dept in self.departments:
            unknown = sorted(set(dept.names) - spoken)
            if unknown:
                msg = (
                    f"department {dept.key!r}: names in {', '.join(unknown)}, which 'languages' does not list: "
                    f"add the language to 'languages' or remove the name"
                )
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _departments_fit_together(self, info: ValidationInfo) -> Self:
        if isinstance(info.context, Mapping) and info.context.get(_DEFER_CROSS_CHECKS):
            return self
        faults = _cross_check(
            self.fallback,
            [(dept.key, dept.slack_channel, bool(dept.keywords or dept.examples)) for dept in self.departments],
        )
        faults += _topic_faults(self.topics, self.department_keys)
        if faults:
            raise ValueError("; ".join(message for _, message in faults))
        return self

    @property
    def department_keys(self) -> tuple[str, ...]:
        """Every department key, in file order."""
        return tuple(dept.key for dept in self.departments)

    def department(self, key: str) -> Department:
        """Return the department with this key; ``KeyError`` names the known keys otherwise."""
        for dept in self.departments:
            if dept.key == key:
                return dept
        msg = f"no department {key!r}; known: {', '.join(self.department_keys)}"
        raise KeyError(msg)

    def office_hours(self, key: str) -> OfficeHours:
        """A department's office hours; round the clock (in the file's ``timezone``) when it gives none."""
        hours = self.department(key).office_hours
        return hours.build(self.timezone) if hours else OfficeHours.always(zoneinfo.ZoneInfo(self.timezone))


Loc = tuple[str | int, ...]


def _cross_check(
    fallback: object,
    departments: Sequence[tuple[object, object, bool]],
) -> list[tuple[Loc, str]]:
    """Find problems that span departments; each is (location in the file, message).

    ``departments`` holds (key, slack_channel, has keywords or examples) per
    entry, possibly from raw YAML, so values that are not strings are skipped:
    their own validation reports them.
    """
    faults: list[tuple[Loc, str]] = []
    first_key: dict[str, int] = {}
    first_channel: dict[str, int] = {}
    for index, (key, channel, _) in enumerate(departments):
        if isinstance(key, str):
            if key in first_key:
                faults.append(
                    (
                        ("departments", index, "key"),
                        (
                            f"department key {key!r} is used twice (also department "
                            f"number {first_key[key] + 1}): give each department its own key"
                        ),
                    ),
                )
            else:
                first_key[key] = index
        if isinstance(channel, str):
            if channel in first_channel:
                faults.append(
                    (
                        ("departments", index, "slack_channel"),
                        (
                            f"Slack channel {channel} is used by two departments (also department "
                            f"number {first_channel[channel] + 1}): give each department its own channel"
                        ),
                    ),
                )
            else:
                first_channel[channel] = index
    if isinstance(fallback, str) and first_key and fallback not in first_key:
        faults.append(
            (
                ("fallback",),
                f"fallback {fallback!r} is not a department; use one of: {', '.join(first_key)}",
            ),
        )
    elif fallback in first_key:
        # Only judged against a known fallback: a wrong fallback is the one problem to fix first.
        faults.extend(
            (
                ("departments", index),
                (
                    f"department {key!r} has neither keywords nor examples, so nothing can "
                    "reach it: add 'keywords:' or 'examples:' (only the fallback may go without)"
                ),
            )
            for index, (key, _, has_rules) in enumerate(departments)
            if isinstance(key, str) and not has_rules and key != fallback
        )
    return faults


def load_routing(path: Path) -> RoutingConfig:
    """Read and validate a routing file; ``RoutingFileError`` lists every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problem = Problem(str(path), 1, f"cannot read the routing file: {error.strerror or error}")
        raise RoutingFileError([problem]) from error
    except UnicodeDecodeError as error:
        problem = Problem(str(path), 1, "the routing file is not UTF-8 text: save it as UTF-8")
        raise RoutingFileError([problem]) from error
    return load_routing_text(text, str(path))


def load_routing_text(text: str, filename: str) -> RoutingConfig:
    """Validate routing YAML given as text; ``filename`` is only used in the messages."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise RoutingFileError([Problem(filename, 1, _EMPTY_FILE)])
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        context = f" ({error.context})" if error.context else ""
        message = f"not valid YAML{context}: {error.problem}; check the indentation and quoting here"
        raise RoutingFileError([Problem(filename, line, message)]) from error
    except yaml.YAMLError as error:
        raise RoutingFileError([Problem(filename, 1, f"not valid YAML: {error}")]) from error
    finally:
        loader.dispose()

    if not isinstance(data, dict):
        message = "the routing file must be a mapping with 'fallback:' and 'departments:' at the top level"
        raise RoutingFileError([Problem(filename, root.start_mark.line + 1, message)])

    problems = [Problem(filename, line, message) for line, message in _duplicate_keys(root)]
    blank = _blank_values(data)
    problems.extend(
        Problem(filename, _line_of(root, loc, "blank"), _where(data, loc) + _blank_message(str(loc[-1])))
        for loc in blank
    )
    config: RoutingConfig | None = None
    try:
        config = RoutingConfig.model_validate(data, context={_DEFER_CROSS_CHECKS: True})
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            loc = _error_loc(detail)
            if _is_echo_of_item_errors(detail) or _is_echo_of_blank(loc, blank):
                continue
            problems.append(Problem(filename, _line_of(root, loc, detail["type"]), _explain(data, detail)))
    raw_departments = data.get("departments")
    if isinstance(raw_departments, list):
        known_fields = set(Department.model_fields)
        summary = [
            (
                entry.get("key"),
                entry.get("slack_channel"),
                # A misspelt key such as "keyword:" is reported on its own; don't also claim "no keywords".
                bool(entry.get("keywords") or entry.get("examples") or set(entry) - known_fields),
            )
            if isinstance(entry, dict)
            else (None, None, True)
            for entry in raw_departments
        ]
        problems.extend(
            Problem(filename, _line_of(root, loc, "cross"), message)
            for loc, message in _cross_check(data.get("fallback"), summary)
        )
        problems.extend(
            Problem(filename, _line_of(root, loc, "cross"), message)
            for loc, message in _topic_faults(data.get("topics"), [key for key, _, _ in summary])
        )
    if problems or config is None:
        raise RoutingFileError(problems)
    return config


def _blank_values(data: Mapping[str, object]) -> list[Loc]:
    """Find keys written with no value, such as ``slack_channel: #roads`` (the # starts a comment)."""
    blank: list[Loc] = [(key,) for key, value in data.items() if isinstance(key, str) and value is None]
    departments = data.get("departments")
    if isinstance(departments, list):
        blank.extend(
            ("departments", index, key)
            for index, entry in enumerate(departments)
            if isinstance(entry, dict)
            for key, value in entry.items()
            if isinstance(key, str) and value is None
        )
    return blank


def _blank_message(key: str) -> str:
    return (
        f"'{key}' has no value: write it after the colon "
        "(a '#' starts a comment in YAML, so put quotes around values containing '#')"
    )


def _is_echo_of_blank(loc: Loc, blank: Sequence[Loc]) -> bool:
    """Tell whether pydantic complains about a value already reported as blank.

    A blank ``slack_channel``/``desk`` also makes its department lack a place to
    answer; the blank line is the precise report.
    """
    if loc in blank:
        return True
    return (
        len(loc) == 2  # noqa: PLR2004 - (departments, index): the department as a whole
        and any(place[:2] == loc and place[2] in {"slack_channel", "desk"} for place in blank if len(place) == 3)  # noqa: PLR2004 - (departments, index, key)
    )


_EMPTY_FILE = "the routing file is empty: it needs 'fallback:' and 'departments:'"


def _is_echo_of_item_errors(detail: Mapping[str, object]) -> bool:
    """Tell whether an error is pydantic counting a list as empty because its items failed.

    Those items are reported on their own lines; "empty" would mislead.
    """
    return detail["type"] == "too_short" and bool(detail.get("input"))


def _error_loc(detail: Mapping[str, object]) -> Loc:
    """Return a pydantic error's location as a tuple of keys and indexes."""
    loc = detail["loc"]
    return tuple(part for part in loc if isinstance(part, str | int)) if isinstance(loc, tuple) else ()


def _duplicate_keys(node: yaml.Node) -> Iterator[tuple[int, str]]:
    """Yield (line, message) for each key written twice in one mapping; YAML would keep only the last."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    yield (
                        line,
                        (
                            f"'{key_node.value}' is written twice in the same block (first on line "
                            f"{seen[key_node.value]}); YAML would silently keep only this one: merge them"
                        ),
                    )
                else:
                    seen[key_node.value] = line
            yield from _duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _line_of(root: yaml.Node, loc: Loc, error_type: str) -> int:
    """Find the line of the YAML node at ``loc``; a missing key points at its parent mapping."""
    node = root
    for position, part in enumerate(loc):
        is_last = position == len(loc) - 1
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                    child = key_node if is_last and error_type == "extra_forbidden" else value_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _where(data: Mapping[str, object], loc: Loc) -> str:
    """Name the department a location is in, by key when it has one: "department 'roads': "."""
    if len(loc) < 2 or loc[0] != "departments" or not isinstance(loc[1], int):  # noqa: PLR2004 - (departments, index)
        return ""
    departments = data.get("departments")
    entry = departments[loc[1]] if isinstance(departments, list) and loc[1] < len(departments) else None
    key = entry.get("key") if isinstance(entry, dict) else None
    return f"department {key!r}: " if isinstance(key, str) else f"department number {loc[1] + 1}: "


def _allowed_keys(loc: Loc) -> tuple[str, ...]:
    model: type[BaseModel] = RoutingConfig
    if "holidays" in loc[:-1]:
        model = PublicHolidays
    elif "office_hours" in loc[:-1]:
        model = OfficeHoursConfig
    elif "escalation" in loc[:-1]:
        model = Escalation
    elif "departments" in loc[:-1]:
        model = Department
    elif "learning" in loc[:-1]:
        model = Learning
    elif "menu" in loc[:-1]:
        model = Menu
    elif "topics" in loc[:-1]:
        model = Topic
    return tuple(model.model_fields)


def _explain(data: Mapping[str, object], detail: Mapping[str, object]) -> str:
    """Turn one pydantic error into a sentence that tells an admin what to change."""
    loc = _error_loc(detail)
    where = _where(data, loc)
    field = next((str(part) for part in reversed(loc) if isinstance(part, str) and part != "[key]"), "")
    if loc and loc[-1] == "[key]":
        # A mapping's key is wrong (a name's language code): name the mapping, not the key's key.
        field = str(loc[-3])
    error_type = detail["type"]
    if error_type == "extra_forbidden":
        allowed = _allowed_keys(loc)
        close = difflib.get_close_matches(field, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        sentence = f"unknown key '{field}': {hint}allowed keys are {', '.join(allowed)}"
    elif error_type == "missing":
        sentence = f"'{field}' is missing: add '{field}:'" + _MISSING_HINTS.get(field, "")
    elif error_type == "string_pattern_mismatch":
        sentence = f"{field} {detail['input']!r} is not valid: " + _PATTERN_HINTS.get(field, str(detail["msg"]))
    elif error_type == "literal_error" and field == "desk":
        sentence = f"desk {detail['input']!r} is not known: the only desk is 'desk: web'"
    elif error_type == "bool_type":
        sentence = f"{field} {detail['input']!r} is not valid: write true or false"
    elif error_type in {"tuple_type", "list_type"}:
        sentence = f"{field} must be a list, for example '{field}: [first, second]'"
    elif error_type == "too_short" and loc == ("departments",):
        sentence = "departments is empty: list at least one department"
    else:
        sentence = _label(loc) + str(detail["msg"]).removeprefix("Value error, ")
    return where + sentence


def _label(loc: Loc) -> str:
    """Name the key or list item an error is about; empty for a whole department."""
    if loc and isinstance(loc[-1], str):
        return f"{loc[-1]}: "
    if len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] != "departments":  # noqa: PLR2004 - (list name, index)
        return f"{loc[-2]} number {loc[-1] + 1}: "
    return ""


_MISSING_HINTS = {
    "key": " with a short lowercase id such as 'roads'",
    "name": " with the name citizens see, such as 'Roads & Transport'",
    "fallback": " naming the department that gets messages no rule claims",
    "departments": " with a list of departments",
    "hours": " with the weekly hours, such as 'hours: {mon-fri: \"09:00-17:00\"}'",
    "country": " with an ISO 3166-1 country code such as 'DE'",
}

_PATTERN_HINTS = {
    "slack_channel": "a Slack channel id looks like C0ROADS01 (capital C or G, then capitals "
    "and digits); copy it from the channel's details in Slack",
    "key": "use lowercase letters, digits, '-' or '_', starting with a letter, such as 'roads'",
    "fallback": "use a department key: lowercase letters, digits, '-' or '_'",
    "languages": "use two-letter ISO 639-1 language codes such as 'en', 'pl' or 'uk'",
    "office_language": "use a two-letter ISO 639-1 language code such as 'en'",
    "mention": "a Slack user group id looks like S0123ABCD (or a user id, U0123ABCD); "
    "copy it from the group's details in Slack",
    "names": "key each name by a two-letter ISO 639-1 language code such as 'es'",
}
