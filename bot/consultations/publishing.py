"""What staff tools (Slack's modal, the desk's pages) call to publish, list, close and read consultations.

A thin layer over ``ConsultationService``: it finds the department a Slack channel belongs to, turns a
closing day into a closing moment in the office's time zone, and keeps staff to their departments.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.consultations.model import BroadcastKind, Consultation, ConsultationError, Results
from bot.consultations.service import ConsultationService
from bot.departments import Department, Directory
from bot.model import Platform


@dataclass(frozen=True, slots=True)
class Draft:
    """An announcement or consultation as staff filled in the form.

    ``closes_on`` is the last day answers are taken (they close at the end of it, office time).
    """

    kind: BroadcastKind
    text: str
    options: tuple[str, ...] = ()
    free_text: bool = False
    closes_on: date | None = None
    show_who_answered: bool = False


def options_from_lines(lines: str) -> tuple[str, ...]:
    """One option per non-empty line."""
    return tuple(line.strip() for line in lines.splitlines() if line.strip())


class StaffConsultations:
    """Consultations as staff tools see them: by department, published in the office's time zone."""

    def __init__(self, *, service: ConsultationService, directory: Directory, zone: tzinfo = UTC) -> None:
        self._service = service
        self._directory = directory
        self._zone = zone

    def department_of_channel(self, platform: Platform, chat: str) -> Department | None:
        """The department whose home is this channel, if any."""
        return next(
            (d for d in self._directory.departments if d.home.platform == platform and d.home.chat == chat), None
        )

    def department(self, key: str) -> Department | None:
        """A department by key."""
        return self._directory.get(key)

    def closing_moment(self, day: date) -> datetime:
        """The moment answers stop: the end of ``day`` in the office's time zone."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self._zone)

    async def publish(self, *, department: str, draft: Draft, actor: str, background: bool = False) -> Consultation:
        """Send the draft from ``department``; ``ConsultationError`` says what to fix (and nothing is stored).

        With ``background`` the checks and the one insert happen now and the chats are queued by the running
        bridge afterwards, which then posts "sent to N chats" in the department's channel (Slack's form must
        be answered within 3 s, whatever the audience).
        """
        if draft.kind is BroadcastKind.ANNOUNCEMENT:
            if draft.options or draft.closes_on is not None:
                msg = "an announcement has no options and no closing date"
                raise ConsultationError(msg)
            return await self._service.create_announcement(
                department=department, text=draft.text, actor=actor, background=background
            )
        return await self._service.create_consultation(
            department=department,
            question=draft.text,
            options=draft.options,
            free_text=draft.free_text,
            closes_at=self.closing_moment(draft.closes_on) if draft.closes_on is not None else None,
            show_who_answered=draft.show_who_answered,
            actor=actor,
            background=background,
        )

    async def listed(self, departments: Collection[str] | None) -> list[Consultation]:
        """Newest first: those of ``departments`` (None: every department's)."""
        every = await self._service.list()
        return [c for c in every if departments is None or c.department in departments]

    async def one(self, consultation_id: int, departments: Collection[str] | None) -> Consultation | None:
        """One consultation, if it exists and belongs to one of ``departments`` (None: any)."""
        try:
            found = await self._service.get(consultation_id)
        except ConsultationError:
            return None
        return found if departments is None or found.department in departments else None

    async def results(self, consultation_id: int) -> Results:
        """Counts per option and free-text answers (names only if the consultation shows who answered)."""
        return await self._service.results(consultation_id)

    async def close(self, consultation_id: int, *, actor: str) -> Consultation:
        """Stop taking answers now (audited)."""
        return await self._service.close(consultation_id, actor=actor)
