"""The departments as the relay sees them: a name, where they answer, how replies are signed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.model import Address, DepartmentKey
from bot.office_hours import OfficeHours


@dataclass(frozen=True, slots=True)
class Escalation:
    """Where a late answer is escalated: a post in ``channel`` (Slack), mentioning ``mention`` (a user group id)."""

    channel: Address | None = None
    mention: str | None = None


@dataclass(frozen=True, slots=True)
class Department:
    """One department: ``home`` is its Slack channel or its web-desk queue."""

    key: DepartmentKey
    name: str
    home: Address
    sign_with_officer_name: bool = False
    #: The department's name in other languages (the routing file's ``names``), as (language, name) pairs.
    names: tuple[tuple[str, str], ...] = ()
    #: When it is open (the routing file's ``office_hours``); round the clock when the file gives none.
    hours: OfficeHours = field(default_factory=OfficeHours.always, compare=False)
    #: Answer-time targets in business time (``first_response``, ``next_response``); None: no promise.
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    #: Where a late answer is escalated (the routing file's ``escalation``); None: the case's thread only.
    escalation: Escalation | None = None
    #: When staff close a case, its citizen is asked to rate the answer (the routing file's ``ask_rating``).
    ask_rating: bool = False

    def name_in(self, language: str | None) -> str:
        """The department's name as a citizen writing in ``language`` reads it; ``name`` when none is given."""
        return dict(self.names).get(language or "", self.name)


@dataclass(frozen=True, slots=True)
class Topic:
    """Something narrower than a department that citizens can follow (the routing file's ``topics``)."""

    key: str
    name: str
    department: DepartmentKey
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DepartmentTable:
    """One routing file's departments, in the file's order, the fallback and the topics: a value."""

    departments: tuple[Department, ...]
    fallback: DepartmentKey
    topics: tuple[Topic, ...] = ()

    def __post_init__(self) -> None:
        if self.fallback not in {d.key for d in self.departments}:
            msg = f"fallback department {self.fallback!r} is not among the departments"
            raise ValueError(msg)


class Directory:
    """Every department and the fallback, as the relay and every channel read them.

    The one ``Directory`` the app builds is shared by the relay and the channels; a routing
    reload ``swap``s in the new file's table with one assignment, so every reader sees either
    the old departments or the new ones, never a mix.
    """

    __slots__ = ("_table",)

    def __init__(
        self, *, departments: tuple[Department, ...], fallback: DepartmentKey, topics: tuple[Topic, ...] = ()
    ) -> None:
        self._table = DepartmentTable(departments, fallback, topics)

    @property
    def departments(self) -> tuple[Department, ...]:
        """Every department, in the routing file's order."""
        return self._table.departments

    @property
    def topics(self) -> tuple[Topic, ...]:
        """The topics citizens can follow besides departments, in the routing file's order."""
        return self._table.topics

    @property
    def fallback(self) -> DepartmentKey:
        """The department that gets what no rule claims."""
        return self._table.fallback

    def swap(self, other: Directory) -> None:
        """From now on, answer with ``other``'s departments (a reloaded routing file)."""
        self._table = other._table

    def get(self, key: str) -> Department | None:
        """The department with this key, if there is one."""
        return next((d for d in self.departments if d.key == key), None)

    def __getitem__(self, key: str) -> Department:
        department = self.get(key)
        if department is None:
            raise KeyError(key)
        return department

    def find(self, words: str) -> Department | None:
        """A department named by key or (case-insensitively) by name in any language, as people type it."""
        wanted = words.strip().casefold()
        return next(
            (
                d
                for d in self.departments
                if wanted in {d.key.casefold(), d.name.casefold(), *(name.casefold() for _, name in d.names)}
            ),
            None,
        )

    def homes(self) -> Iterable[Address]:
        """Every channel or queue the bridge acts in."""
        return (d.home for d in self.departments)
