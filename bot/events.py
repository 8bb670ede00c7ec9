"""Inbound events: what adapters hand the relay, already normalised.

Every event carries ``event_id``, unique per platform (Telegram update id,
Slack event id, Discord message id, a web request id), so the relay
processes each one once however often it arrives.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.model import Address, DepartmentKey, FileData, Platform


@dataclass(frozen=True, slots=True)
class Sender:
    """The citizen behind a citizen-side event, as the platform describes them."""

    platform: Platform
    user_id: str
    display_name: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class CitizenMessage:
    """A citizen wrote (or edited, with ``edited=True``) a message in a private chat."""

    event_id: str
    sender: Sender
    chat: Address
    text: str
    files: tuple[FileData, ...] = ()
    source_id: str | None = None
    edited: bool = False


class CitizenCommandKind(enum.StrEnum):
    """Commands every citizen platform offers (``/start``, ``!status``, …)."""

    START = "start"
    HELP = "help"
    STATUS = "status"
    NEW = "new"
    LANGUAGE = "language"
    MYDATA = "mydata"  # send me a copy of my data (an access request)
    FORGET = "forget"  # erase my data (closed cases at once, open ones after staff decide)
    SUBSCRIBE = "subscribe"  # list what can be followed; with a number or key: follow it (consent)
    TOPICS = "topics"  # what I follow
    UNSUBSCRIBE = "unsubscribe"  # stop everything (``stop`` too); with a number or key: stop that one
    ANSWER = "answer"  # answer the latest consultation: an option's number or name, or free text


@dataclass(frozen=True, slots=True)
class CitizenCommand:
    """A citizen asked for one of the platform-neutral commands."""

    event_id: str
    sender: Sender
    chat: Address
    command: CitizenCommandKind
    #: What follows the command (``language es``: ``es``); empty when nothing does.
    argument: str = ""


@dataclass(frozen=True, slots=True)
class MenuChoice:
    """A citizen picked a department (or ``other``) from the menu of a pending case."""

    event_id: str
    sender: Sender
    chat: Address
    choice: str


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """A message in a department thread. Bots' messages are marked, not dropped, by adapters."""

    event_id: str
    thread: Address
    author_id: str
    author_name: str
    text: str
    is_bot: bool = False
    files: tuple[FileData, ...] = ()
    source_id: str | None = None


class StaffActionKind(enum.StrEnum):
    """What staff can do to a case besides replying."""

    CLOSE = "close"
    REOPEN = "reopen"
    TRANSFER = "transfer"
    CLAIM = "claim"
    ERASE = "erase"  # grant a citizen's erasure request for this case now
    KEEP = "keep"  # keep the case under the public-task exemption; ``reason`` is told to the citizen
    ANSWER = "answer"  # send a saved answer: ``StaffAction.answer`` is its key


@dataclass(frozen=True, slots=True)
class StaffAction:
    """A button press or ``!command`` in a case thread."""

    event_id: str
    thread: Address
    actor_id: str
    actor_name: str
    action: StaffActionKind
    department: DepartmentKey | None = None
    reason: str | None = None
    #: The saved answer's key, for ``ANSWER``.
    answer: str | None = None


@dataclass(frozen=True, slots=True)
class StaffEdit:
    """Staff edited or deleted a message in a case thread after it was sent."""

    event_id: str
    thread: Address
    source_id: str
    deleted: bool = False


InboundEvent = CitizenMessage | CitizenCommand | MenuChoice | StaffMessage | StaffAction | StaffEdit
