"""The consultations domain's values: what can be followed, subscriptions, broadcasts, answers and results."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import NewType

from bot.model import Address, CitizenId, DepartmentKey

ConsultationId = NewType("ConsultationId", int)
#: What a citizen follows: a department key or a topic key from the routing file (they never collide).
FollowKey = NewType("FollowKey", str)


class BroadcastKind(enum.StrEnum):
    """An announcement tells; a consultation asks (single choice among ``options``, or free text)."""

    ANNOUNCEMENT = "announcement"
    CONSULTATION = "consultation"


@dataclass(frozen=True, slots=True)
class Followable:
    """Something citizens can follow: a department, or a topic one department publishes on.

    ``names`` are the name in other languages as (language, name) pairs.
    """

    key: FollowKey
    name: str
    department: DepartmentKey
    is_topic: bool = False
    names: tuple[tuple[str, str], ...] = ()

    def name_in(self, language: str | None) -> str:
        """The name as a citizen writing in ``language`` reads it."""
        return dict(self.names).get(language or "", self.name)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A chat's consent to receive what ``key`` sends: when, and the exact words it agreed to, in its language."""

    chat: Address
    citizen_id: CitizenId
    key: FollowKey
    language: str
    consent_text: str
    subscribed_at: datetime


@dataclass(frozen=True, slots=True)
class Consultation:
    """An announcement or a consultation, as created and (once sent) how many chats it went to.

    ``text`` is the notice or the question. A consultation has ``options`` (single choice) or
    ``free_text``; ``closes_at`` ends it by the clock, ``closed_at`` is when it was closed (by
    the clock passing or by staff). ``show_who_answered`` lets results name who answered what.
    ``recipients`` counts the chats it was queued for, so far while ``sending``.
    """

    id: ConsultationId
    kind: BroadcastKind
    department: DepartmentKey
    topic: FollowKey | None
    text: str
    options: tuple[str, ...]
    free_text: bool
    closes_at: datetime | None
    closed_at: datetime | None
    show_who_answered: bool
    created_by: str
    created_at: datetime
    recipients: int = 0
    #: Chats are still being queued (``recipients`` so far); any running bridge finishes an interrupted send.
    sending: bool = False

    def is_open(self, now: datetime) -> bool:
        """Whether answers are taken at ``now`` (an announcement takes none)."""
        if self.kind is not BroadcastKind.CONSULTATION or self.closed_at is not None:
            return False
        return self.closes_at is None or now < self.closes_at


@dataclass(frozen=True, slots=True)
class Answer:
    """One chat's answer to a consultation: an option number (1-based) or a text; changeable until it closes."""

    consultation_id: ConsultationId
    chat: Address
    citizen_id: CitizenId | None
    option: int | None
    text: str | None
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class OptionCount:
    """How many chose option ``number`` (1-based)."""

    number: int
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class TextAnswer:
    """A free-text answer; ``who`` only when the consultation shows who answered."""

    text: str
    answered_at: datetime
    who: str | None = None


@dataclass(frozen=True, slots=True)
class Voter:
    """Who chose which option (only when the consultation shows who answered)."""

    who: str
    option: int


@dataclass(frozen=True, slots=True)
class Results:
    """A consultation's results: counts per option and free-text answers; names only if it shows who answered."""

    consultation: Consultation
    answered: int
    counts: tuple[OptionCount, ...]
    texts: tuple[TextAnswer, ...]
    voters: tuple[Voter, ...] = ()


class ConsultationError(ValueError):
    """A request the domain refuses (unknown department, no options, closed, not found), in words staff act on."""
