"""What the web chat and the web desk may read: named read models, offered as one small interface.

Adapters get a ``ConversationViews`` injected (the store implements it in
``bot.storage.views``); they never see a connection or a table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.model import Address, Case, CaseStatus, Citizen, CitizenReply, DeliveryId, DepartmentKey, Direction, Message
from bot.ratings import Rating


@dataclass(frozen=True, slots=True)
class CitizenLine:
    """A message the citizen wrote, as their chat shows it again."""

    message_id: int
    text: str
    source_id: str | None  # the platform's event id: the web chat's own id for the line
    reference: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SentReply:
    """A reply the bridge queued for (or sent to) the citizen's chat."""

    delivery_id: DeliveryId
    reply: CitizenReply
    at: datetime


@dataclass(frozen=True, slots=True)
class ChatHistory:
    """A citizen chat's conversation: newest lines of each kind, its last case and the citizen's name."""

    lines: tuple[CitizenLine, ...]
    replies: tuple[SentReply, ...]
    last_case: Case | None
    display_name: str | None
    #: The language the citizen chose (``language`` command or the chat's selector), if they did.
    chosen_language: str | None = None
    #: The reference of the chat's closed case whose rating question is open (its buttons still count), if any.
    rating_open: str | None = None


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One row of the desk's case list."""

    case: Case
    citizen: Citizen | None
    last_text: str
    last_direction: Direction | None
    #: Its first answer is late (see ``bot.storage.inbox.overdue``, the one place that decides it).
    overdue: bool = False

    @property
    def awaiting_reply(self) -> bool:
        """Whether the citizen spoke last on an open case."""
        return self.case.status is CaseStatus.OPEN and self.last_direction is Direction.CITIZEN


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything the desk's case page shows."""

    case: Case
    citizen: Citizen | None
    messages: tuple[Message, ...]
    #: The reference of the case this one follows up, if any.
    previous_reference: str | None = None
    #: The same citizen's other cases, newest first (every department: the desk shows only those it may).
    earlier: tuple[Case, ...] = ()
    #: The citizen's satisfaction rating once the case closed (asked, maybe answered), if they were asked.
    rating: Rating | None = None


class InboxView(enum.StrEnum):
    """The desk's inbox views: which cases of the chosen departments a list shows."""

    OPEN = "open"  # every case not closed
    MINE = "mine"  # not closed, claimed by the signed-in officer
    UNASSIGNED = "unassigned"  # not closed, claimed by nobody
    OVERDUE = "overdue"  # not closed, its first answer late
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """What the inbox asks for: a view of some departments' cases, optionally searched."""

    #: Every department the reader sees (the department filter counts open cases of each).
    departments: tuple[DepartmentKey, ...]
    view: InboxView = InboxView.OPEN
    #: Only this one of ``departments``; None: all of them.
    department: DepartmentKey | None = None
    #: Whose cases "mine" means: the officer's name as cases record who claimed them.
    officer: str = ""
    #: A reference, words of a message, a citizen's name or ``platform:id``; empty: no search.
    search: str = ""
    limit: int = 200

    @property
    def chosen(self) -> tuple[DepartmentKey, ...]:
        """The departments whose cases the rows and view counts cover."""
        if self.department is None:
            return self.departments
        return tuple(key for key in self.departments if key == self.department)


@dataclass(frozen=True, slots=True)
class Inbox:
    """One inbox page: its rows, how many cases each view holds, and open cases per department."""

    rows: tuple[CaseSummary, ...]
    counts: Mapping[InboxView, int] = field(default_factory=dict)
    per_department: Mapping[DepartmentKey, int] = field(default_factory=dict)


class ConversationViews(Protocol):
    """The read models the web chat and the desk show."""

    def now(self) -> datetime:
        """The bridge's clock."""

    async def chat_history(self, chat: Address, *, limit: int) -> ChatHistory:
        """Up to ``limit`` of the citizen's own messages and of the replies sent to ``chat`` (failed ones never)."""

    async def case_summaries(self, departments: tuple[DepartmentKey, ...]) -> list[CaseSummary]:
        """Cases of these departments, open first and newest activity first, with who wrote last."""

    async def case_view(self, reference: str) -> CaseView | None:
        """A case with its whole conversation (citizen, staff, notes and bridge lines) and the citizen's other cases."""

    async def inbox(self, query: InboxQuery) -> Inbox:
        """The cases of ``query``'s view and search (open first, newest activity first) with each view's count."""
