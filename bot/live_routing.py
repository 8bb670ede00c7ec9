"""Routing changes without a restart: the routing file and the answers beside it are watched, reloaded on SIGHUP.

``RoutingReloader`` validates a changed file first; a file with problems is refused
(``FILE:LINE: message`` lines in the log and in ``/healthz``) and the routing in force
stays. A good file swaps the router and the departments at once: ``LiveRouter`` is what
the relay routes through, ``Directory.swap`` what the relay and the channels read. The answers
file (``answers.yaml`` next to the routing file) is checked against the same routing and swapped
with it (``LiveAnswers``); a change to either file reloads both, and a problem in either refuses both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.background import BackgroundLoop
from bot.departments import Department, Directory, Escalation, Topic
from bot.model import DESK, SLACK, Address, DepartmentKey
from bot.office_hours import parse_duration
from bot.saved_answers import LiveAnswers
from config.answers_file import answers_path, load_answers
from config.routing_file import Problem, RoutingConfig, RoutingFileError, load_routing_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from routing.router import Decision, Router

log = logging.getLogger(__name__)

#: How often every process looks at the routing file, in seconds.
WATCH_INTERVAL = 3.0


def directory_from(config: RoutingConfig) -> Directory:
    """The relay's view of the routing file's departments."""
    departments = tuple(
        Department(
            key=DepartmentKey(d.key),
            name=d.name,
            home=Address(SLACK, d.slack_channel) if d.slack_channel else Address(DESK, d.key),
            sign_with_officer_name=d.sign_with_officer_name,
            names=tuple(d.names.items()),
            hours=config.office_hours(d.key),
            first_response=parse_duration(d.first_response) if d.first_response else None,
            next_response=parse_duration(d.next_response) if d.next_response else None,
            escalation=Escalation(
                channel=Address(SLACK, d.escalation.slack_channel) if d.escalation.slack_channel else None,
                mention=d.escalation.mention,
            )
            if d.escalation
            else None,
            ask_rating=d.ask_rating,
        )
        for d in config.departments
    )
    topics = tuple(
        Topic(key=t.key, name=t.name, department=DepartmentKey(t.department), names=tuple(t.names.items()))
        for t in config.topics
    )
    return Directory(departments=departments, fallback=DepartmentKey(config.fallback), topics=topics)


class LiveRouter:
    """The router the relay calls; a reload swaps the one behind it."""

    __slots__ = ("_router",)

    def __init__(self, router: Router) -> None:
        self._router = router

    @property
    def current(self) -> Router:
        """The router in force."""
        return self._router

    def swap(self, router: Router) -> None:
        """Route with ``router`` from now on."""
        self._router = router

    def route(self, text: str, *, language: str | None = None) -> Decision:
        """Decide where a first message goes, by the routing in force."""
        return self._router.route(text, language=language)

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> list[Decision]:
        """Decide where each ``(text, language)`` goes, by the routing in force (one batch)."""
        return self._router.route_all(questions)

    def language_of(self, text: str, *, hint: str | None = None) -> str | None:
        """The language identified in ``text``, by the routing in force (its ``languages``)."""
        return self._router.language_of(text, hint=hint)


@dataclass(frozen=True, slots=True)
class RoutingStatus:
    """What ``/healthz`` says about the routing: the file, when it was last loaded, the last refusal."""

    file: str
    loaded_at: datetime
    error: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The ``routing`` object of ``/healthz``; ``error`` is null once a good file is in force."""
        return {
            "file": self.file,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "error": list(self.error) or None,
        }


def digest(path: Path) -> str | None:
    """The SHA-256 of the file's bytes; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_routing(path: Path) -> tuple[RoutingConfig, str]:
    """Validate the file and return it with the digest of exactly the bytes validated."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        problem = Problem(str(path), 1, f"cannot read the routing file: {error.strerror or error}")
        raise RoutingFileError([problem]) from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = Problem(str(path), 1, "the routing file is not UTF-8 text: save it as UTF-8")
        raise RoutingFileError([problem]) from error
    return load_routing_text(text, str(path)), hashlib.sha256(raw).hexdigest()


class RoutingReloader(BackgroundLoop):
    """Watches the routing file and reloads it on change or on request (SIGHUP); an async context manager.

    ``seen`` is the digest of the file the routing in force came from (None when it came from
    elsewhere, the built-in example). Each process watches on its own, so every process of a
    deployment picks a change up within ``interval`` seconds.
    """

    task_name = "routing-watch"

    def __init__(
        self,
        *,
        path: Path,
        directory: Directory,
        router: LiveRouter,
        seen: str | None,
        loaded_from: Path,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval: float = WATCH_INTERVAL,
        answers: LiveAnswers | None = None,
    ) -> None:
        self._path = path
        self._answers = answers
        self._answers_path = answers_path(path)
        # The answers in force came from the file as it is now (or from none): only a change reloads them.
        self._answers_seen = digest(self._answers_path)
        self._directory = directory
        self._router = router
        self._seen = seen
        self._now = now
        self._interval = interval
        self._status = RoutingStatus(file=str(loaded_from), loaded_at=now())
        self._asked = asyncio.Event()
        self._lock = asyncio.Lock()

    def status(self) -> RoutingStatus:
        """The file in force, when it was loaded, and the last refused attempt's problems."""
        return self._status

    def request(self) -> None:
        """Reload soon even if the file looks unchanged (SIGHUP); safe to call from a signal handler."""
        self._asked.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._asked.wait(), timeout=self._interval)
            forced = self._asked.is_set()
            self._asked.clear()
            try:
                await self.reload(forced=forced)
            except Exception:
                # The watch must outlive one bad attempt; the routing in force stays.
                log.exception("reloading the routing file %s failed", self._path)

    async def reload(self, *, forced: bool = True) -> bool:
        """Load the file if it changed (always when ``forced``); True when a new routing is in force."""
        async with self._lock:
            answers_seen = digest(self._answers_path)
            routing_changed = forced or digest(self._path) != self._seen
            if not routing_changed and (self._answers is None or answers_seen == self._answers_seen):
                return False
            try:
                config, seen = read_routing(self._path)
                answers = load_answers(self._answers_path, config) if self._answers is not None else None
            except RoutingFileError as error:
                self._answers_seen = answers_seen
                self._refuse(error, digest(self._path))
                return False
            if routing_changed or seen != self._seen:
                # Embedding the departments' texts again takes a moment: off the event loop.
                router = await asyncio.to_thread(self._router.current.reloaded, config)
                self._router.swap(router)
            self._directory.swap(directory_from(config))
            if self._answers is not None and answers is not None:
                self._answers.swap(answers)
            self._answers_seen = answers_seen
            self._seen = seen
            self._status = RoutingStatus(file=str(self._path), loaded_at=self._now())
            log.info(
                "routing reloaded from %s: %d departments, fallback %s",
                self._path,
                len(config.departments),
                config.fallback,
            )
            return True

    def _refuse(self, error: RoutingFileError, seen: str | None) -> None:
        """Report the problems once per version of the file; the routing in force stays."""
        self._seen = seen
        lines = tuple(str(problem) for problem in error.problems)
        self._status = RoutingStatus(file=self._status.file, loaded_at=self._status.loaded_at, error=lines)
        loaded_at = self._status.loaded_at.isoformat(timespec="seconds")
        log.error("routing file %s refused; the routing loaded at %s stays in force", self._path, loaded_at)
        for line in lines:
            log.error("%s", line)
