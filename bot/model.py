"""The conversation model: frozen values shared by the relay, storage and adapters.

Nothing here knows a platform's wire format. Platform ids (chat ids, Slack
``thread_ts``, message ids) travel as opaque strings inside an ``Address``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, NewType, TypeVar

CaseId = NewType("CaseId", int)
MessageId = NewType("MessageId", int)
DeliveryId = NewType("DeliveryId", int)
CitizenId = NewType("CitizenId", int)
BlobId = NewType("BlobId", int)
DepartmentKey = NewType("DepartmentKey", str)

#: Platform names. Citizen side: telegram, discord, web. Department side: slack, desk.
Platform = NewType("Platform", str)
TELEGRAM = Platform("telegram")
DISCORD = Platform("discord")
WEB = Platform("web")
SLACK = Platform("slack")
DESK = Platform("desk")


class CaseStatus(enum.StrEnum):
    """Where a case stands. ``pending`` waits for the citizen to pick a department."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    """Who wrote a stored message, and so who may see it."""

    CITIZEN = "citizen"
    STAFF = "staff"
    NOTE = "note"
    SYSTEM = "system"


class DeliveryState(enum.StrEnum):
    """An outbox row's state: pending until sent, or failed for good."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Side(enum.StrEnum):
    """Which end of the bridge a delivery goes to; each case has one ordered lane per side."""

    CITIZEN = "citizen"
    DEPARTMENT = "department"


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message lives on a platform: a chat/channel and, optionally, a thread.

    ``chat`` is a Telegram chat id, a Discord DM channel id, a web session, a
    Slack channel id or a desk department key; ``thread`` is a Slack
    ``thread_ts`` (or the desk's case reference). Opaque to the core.
    """

    platform: Platform
    chat: str
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file travelling with a message; the bytes live in the blob store."""

    name: str
    mime_type: str
    size: int
    blob_id: BlobId | None = None


@dataclass(frozen=True, slots=True)
class FileData:
    """An attachment's bytes, as an adapter receives or sends them."""

    name: str
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Citizen:
    """A person writing from one platform account."""

    id: CitizenId
    platform: Platform
    user_id: str
    display_name: str
    language: str | None
    #: The language the citizen chose with the ``language`` command (or the web chat's selector).
    chosen_language: str | None = None
    #: The language they were last told, in it, that the office does not offer it (told once).
    language_notice: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """One conversation between a citizen and a department."""

    id: CaseId
    reference: str
    citizen_id: CitizenId
    chat: Address
    department: DepartmentKey | None
    status: CaseStatus
    thread: Address | None
    root: Address | None
    previous_case_id: CaseId | None
    claimed_by: str | None
    created_at: datetime
    updated_at: datetime
    #: The language identified in the citizen's first message, when the router could tell.
    language: str | None = None
    #: When the next answer is due (``first_response``, then ``next_response``, in business time); None: none due.
    answer_due_at: datetime | None = None
    #: The answer due is late (``answer_due_at`` passed unanswered); cleared when staff answer or the case closes.
    overdue: bool = False
    #: When the first answer was due (``first_response``): set once when the case reaches its department, never
    #: cleared, unlike ``answer_due_at``; what the reports compare the first staff answer with.
    first_answer_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Translation:
    """A machine translation of a message, from ``source`` into ``target`` (language codes).

    ``text`` is the translation; ``error`` says why there is none (the server failed), in words
    that hold no message text.
    """

    source: str
    target: str
    text: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One stored message of a case."""

    id: MessageId
    case_id: CaseId
    direction: Direction
    author: str
    text: str
    attachments: tuple[Attachment, ...]
    source_id: str | None
    delivered_id: str | None
    created_at: datetime
    #: Its machine translation (into the office language, or for a staff reply the citizen's), if one was made.
    translation: Translation | None = None


# --- What the relay asks an adapter to send -------------------------------------


class PostKind(enum.StrEnum):
    """What a department-side post is."""

    ROOT = "root"  # opens the case's thread: a card with the first message
    CITIZEN = "citizen"  # a later citizen message, as a thread reply
    SYSTEM = "system"  # a short line from the bridge in the thread
    ROOT_UPDATE = "root_update"  # edits the thread root (status line changed)
    RECEIPT = "receipt"  # marks a staff reply as delivered (e.g. a reaction)
    ERASE = "erase"  # replaces the bridge's own post ``about`` with "[erased]" (an erasure request)
    ESCALATION = "escalation"  # a late answer: in the escalation channel (or the thread), mentioning its group
    RESULTS = "results"  # opens a consultation's results message (not a case: ``card`` names the consultation)
    RESULTS_UPDATE = "results_update"  # rewrites the results message ``about`` with the counts as they stand
    RESULTS_TEXT = "results_text"  # a free-text answer, in the results message's thread


class ReplyKind(enum.StrEnum):
    """What a citizen-side message is."""

    ACK = "ack"  # the case is open: reference and department
    STAFF = "staff"  # a department's answer, signed
    SYSTEM = "system"  # the bridge speaking (status, closed, transferred, help)
    MENU = "menu"  # routing was unsure: pick a department
    BROADCAST = "broadcast"  # an announcement or consultation, to a chat that opted in (no case)


@dataclass(frozen=True, slots=True)
class CaseCard:
    """What a department needs to see about a case on every post."""

    reference: str
    department_key: DepartmentKey
    department_name: str
    platform: Platform
    citizen_name: str
    language: str | None
    status: CaseStatus
    claimed_by: str | None
    #: When the next answer is due (``Case.answer_due_at``); None: none due.
    answer_due_at: datetime | None = None
    #: The answer due is late (``Case.overdue``).
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class MenuOption:
    """One choice in the department menu; ``key`` is a department key or ``other``."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class ThreadPost:
    """A message for the department side (Slack thread or web desk).

    ``text`` is the plain text as the citizen or bridge wrote it: the adapter
    escapes it for its platform. ``about`` names the platform message a
    RECEIPT refers to. A ROOT_UPDATE with ``text`` says the thread is no longer
    where the case is handled (it was transferred): show the text, offer no actions.
    """

    kind: PostKind
    card: CaseCard
    text: str
    author: str
    attachments: tuple[Attachment, ...] = ()
    about: str | None = None
    #: The citizen text's translation, shown under it (set on the way out, never stored in the outbox).
    translation: Translation | None = None


@dataclass(frozen=True, slots=True)
class CitizenReply:
    """A message for the citizen. ``text`` is plain: the adapter escapes it."""

    kind: ReplyKind
    text: str
    reference: str
    signature: str | None = None
    attachments: tuple[Attachment, ...] = ()
    options: tuple[MenuOption, ...] = ()


Body = ThreadPost | CitizenReply
#: A citizen channel sends ``Outgoing[CitizenReply]``, a department channel ``Outgoing[ThreadPost]``.
BodyT = TypeVar("BodyT", CitizenReply, ThreadPost)


@dataclass(frozen=True, slots=True)
class Outgoing(Generic[BodyT]):
    """One send a channel performs: a body, where to, and the files' bytes."""

    target: Address
    body: BodyT
    files: tuple[FileData, ...] = ()
    idempotency_key: str = ""
    #: Which try this is (1 the first): a channel may look for what an earlier try already posted.
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Sent:
    """What the platform answered: its message id (for roots, the thread id too)."""

    message_id: str
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outbox row: one body to one target, retried until sent or failed."""

    id: DeliveryId
    case_id: CaseId | None
    message_id: MessageId | None
    side: Side
    lane: str
    target: Address
    in_case_thread: bool
    body: Body
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_id: str | None = None
    created_at: datetime | None = field(default=None)
    #: A broadcast to subscribers (announcement, consultation): sent after case traffic, within the bulk budget.
    bulk: bool = False
