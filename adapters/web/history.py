"""Read-only views of the store for the web chat (a citizen's conversation) and the desk (case lists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bot.model import (
    WEB,
    Address,
    Attachment,
    Case,
    CaseStatus,
    Citizen,
    CitizenId,
    CitizenReply,
    DeliveryState,
    DepartmentKey,
    Direction,
    MenuOption,
    Message,
    Platform,
    ReplyKind,
    Side,
)
from bot.storage.codec import body_from_json
from bot.storage.store import Store, Tx
from bot.storage.tables import cases, citizens, deliveries, messages

#: How much of a returning citizen's conversation the chat shows.
CHAT_HISTORY_ITEMS = 200


@dataclass(frozen=True, slots=True)
class ChatItem:
    """One line of the citizen's conversation: theirs (``citizen``), or what the bridge sent them."""

    id: str
    who: str  # "citizen", "staff" (a department's answer) or "bridge"
    kind: str  # "citizen" or a ReplyKind value
    text: str
    reference: str
    at: datetime
    signature: str | None = None
    options: tuple[MenuOption, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The shape the chat page's script renders."""
        return {
            "id": self.id,
            "who": self.who,
            "kind": self.kind,
            "text": self.text,
            "reference": self.reference,
            "at": self.at.isoformat(),
            "signature": self.signature,
            "options": [{"key": o.key, "label": o.label} for o in self.options],
            "attachments": [a.name for a in self.attachments],
        }


def reply_item(item_id: str, reply: CitizenReply, at: datetime) -> ChatItem:
    """A message the bridge sends a citizen, as the chat shows it (live or from history)."""
    who = "staff" if reply.kind is ReplyKind.STAFF else "bridge"
    return ChatItem(
        id=item_id,
        who=who,
        kind=reply.kind.value,
        text=reply.text,
        reference=reply.reference,
        at=at,
        signature=reply.signature,
        options=reply.options,
        attachments=reply.attachments,
    )


def citizen_item_id(event_id: str) -> str:
    """The id the chat gives a citizen's own message, known to the page before the server answers."""
    return f"c-{event_id}"


def delivery_item_id(delivery_id: int) -> str:
    """The id of a message the bridge sent; the same as the outbox's idempotency key."""
    return f"d{delivery_id}"


@dataclass(frozen=True, slots=True)
class ChatState:
    """What a (returning) citizen's chat page shows."""

    items: tuple[ChatItem, ...]
    case: Case | None
    open_menu: str | None  # the id of the menu item the citizen can still answer
    display_name: str | None


async def chat_state(store: Store, session: str) -> ChatState:
    """The citizen's own messages and every message the bridge sent them, oldest first, notes never."""

    async def read(tx: Tx) -> ChatState:
        chat = Address(WEB, session)
        own = (
            select(messages.c.id, messages.c.text, messages.c.source_id, messages.c.created_at, cases.c.reference)
            .join(cases, cases.c.id == messages.c.case_id)
            .where(
                cases.c.chat_platform == WEB,
                cases.c.chat_id == session,
                messages.c.direction == Direction.CITIZEN.value,
            )
            .order_by(messages.c.id.desc())
            .limit(CHAT_HISTORY_ITEMS)
        )
        sent = (
            select(deliveries.c.id, deliveries.c.body, deliveries.c.created_at)
            .where(
                deliveries.c.side == Side.CITIZEN.value,
                deliveries.c.target_platform == WEB,
                deliveries.c.target_chat == session,
                # Pending rows are about to reach the page (or already did, mid-send): show them.
                deliveries.c.state != DeliveryState.FAILED.value,
            )
            .order_by(deliveries.c.id.desc())
            .limit(CHAT_HISTORY_ITEMS)
        )
        keyed: list[tuple[datetime, int, int, ChatItem]] = []
        for row in await tx.connection.execute(own):
            item_id = citizen_item_id(row.source_id) if row.source_id else f"m{row.id}"
            item = ChatItem(item_id, "citizen", "citizen", row.text, row.reference, row.created_at)
            keyed.append((row.created_at, 0, row.id, item))
        for row in await tx.connection.execute(sent):
            body = body_from_json(dict(row.body))
            if isinstance(body, CitizenReply):
                keyed.append((row.created_at, 1, row.id, reply_item(delivery_item_id(row.id), body, row.created_at)))
        keyed.sort(key=lambda entry: entry[:3])
        items = tuple(entry[3] for entry in keyed[-CHAT_HISTORY_ITEMS:])
        case = await tx.last_case(chat)
        open_menu = None
        if case is not None and case.status is CaseStatus.PENDING:
            menus = [i for i in items if i.kind == ReplyKind.MENU.value and i.reference == case.reference]
            open_menu = menus[-1].id if menus else None
        name = (
            await tx.connection.execute(
                select(citizens.c.display_name).where(citizens.c.platform == WEB, citizens.c.user_id == session)
            )
        ).scalar_one_or_none()
        return ChatState(items, case, open_menu, name)

    return await store.read(read)


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """One row of the desk's case list."""

    case: Case
    citizen: Citizen | None
    last_text: str
    last_direction: Direction | None

    @property
    def awaiting_reply(self) -> bool:
        """Whether the citizen spoke last on an open case."""
        return self.case.status is CaseStatus.OPEN and self.last_direction is Direction.CITIZEN


async def case_list(store: Store, departments: tuple[DepartmentKey, ...]) -> list[CaseSummary]:
    """Cases of these departments, open first and newest activity first, with who wrote last."""

    async def read(tx: Tx) -> list[CaseSummary]:
        found = await tx.cases_of_departments(departments) if departments else []
        if not found:
            return []
        ids = [case.id for case in found]
        people = {
            CitizenId(row.id): Citizen(
                CitizenId(row.id), Platform(row.platform), row.user_id, row.display_name, row.language
            )
            for row in await tx.connection.execute(
                select(citizens).where(citizens.c.id.in_({case.citizen_id for case in found}))
            )
        }
        spoken = (Direction.CITIZEN.value, Direction.STAFF.value)
        latest = (
            select(func.max(messages.c.id).label("id"))
            .where(messages.c.case_id.in_(ids), messages.c.direction.in_(spoken))
            .group_by(messages.c.case_id)
            .subquery()
        )
        last = {
            row.case_id: (row.text, Direction(row.direction))
            for row in await tx.connection.execute(
                select(messages.c.case_id, messages.c.text, messages.c.direction).join(
                    latest, latest.c.id == messages.c.id
                )
            )
        }
        return [
            CaseSummary(
                case=case,
                citizen=people.get(case.citizen_id),
                last_text=last.get(case.id, ("", None))[0],
                last_direction=last.get(case.id, ("", None))[1],
            )
            for case in found
        ]

    return await store.read(read)


@dataclass(frozen=True, slots=True)
class CaseView:
    """Everything the desk's case page shows."""

    case: Case
    citizen: Citizen | None
    messages: tuple[Message, ...]


async def case_view(store: Store, reference: str) -> CaseView | None:
    """A case with its whole conversation (citizen, staff, notes and bridge lines)."""

    async def read(tx: Tx) -> CaseView | None:
        case = await tx.case_by_reference(reference)
        if case is None:
            return None
        citizen = await tx.citizen_by_id(case.citizen_id)
        return CaseView(case, citizen, tuple(await tx.messages(case.id)))

    return await store.read(read)
