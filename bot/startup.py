"""What is settled before the bridge starts: the routing file in force, its languages, SQLite's one-process lock."""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from bot.i18n import Catalogs
from bot.speech import Languages
from config.routing_file import EXAMPLE_ROUTING_PATH, RoutingConfig, load_routing
from config.settings import DEFAULT_ROUTING_FILE, Settings


class StartupError(Exception):
    """The bridge cannot start; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class RoutingChoice:
    """The routing the bridge runs on, and whether it is the built-in example."""

    path: Path
    config: RoutingConfig
    is_example: bool


def choose_routing(settings: Settings) -> RoutingChoice:
    """The configured routing file; the built-in example when the default path has none."""
    path = settings.routing_file
    if not path.exists():
        if path != DEFAULT_ROUTING_FILE:
            raise StartupError(f"BRIDGE_ROUTING_FILE={path}: no such file. Point it at your routing YAML.")
        return RoutingChoice(EXAMPLE_ROUTING_PATH, load_routing(EXAMPLE_ROUTING_PATH), is_example=True)
    return RoutingChoice(path, load_routing(path), is_example=False)


def languages_from(config: RoutingConfig) -> Languages:
    """What the office offers citizens: the shipped catalogs, its language, ``languages`` and ``timezone``."""
    catalogs = Catalogs.load(office_language=config.office_language)
    return Languages.of(catalogs, offered=config.languages, timezone=config.timezone)


class SqliteLock:
    """Holds an exclusive lock beside the SQLite file: SQLite serves one bridge process."""

    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database
        self._path = Path(f"{database}.lock") if database and database != ":memory:" else None
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or explain why this process cannot start."""
        if self._path is None:
            return
        self._file = self._path.open("w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise StartupError(
                f"another civic-bridge process is running on this SQLite database ({self._path.with_suffix('')}). "
                "SQLite serves one process; to run several, set BRIDGE_DATABASE_URL to a PostgreSQL database."
            ) from None

    def release(self) -> None:
        """Let another process take over."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
