"""The departments as the relay sees them: a name, where they answer, how replies are signed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.model import Address, DepartmentKey


@dataclass(frozen=True, slots=True)
class Department:
    """One department: ``home`` is its Slack channel or its web-desk queue."""

    key: DepartmentKey
    name: str
    home: Address
    sign_with_officer_name: bool = False
    #: The department's name in other languages (the routing file's ``names``), as (language, name) pairs.
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, language: str | None) -> str:
        """The department's name as a citizen writing in ``language`` reads it; ``name`` when none is given."""
        return dict(self.names).get(language or "", self.name)


@dataclass(frozen=True, slots=True)
class Directory:
    """Every department, in the routing file's order, and the fallback."""

    departments: tuple[Department, ...]
    fallback: DepartmentKey

    def __post_init__(self) -> None:
        if self.fallback not in {d.key for d in self.departments}:
            msg = f"fallback department {self.fallback!r} is not among the departments"
            raise ValueError(msg)

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
