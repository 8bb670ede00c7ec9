"""The web chat's history as its page shows it, built from the core's read models (``bot.views``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.model import WEB, Address, Attachment, Case, CaseStatus, CitizenReply, MenuOption, ReplyKind
from bot.views import ConversationViews

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
    chosen_language: str | None = None


async def chat_state(views: ConversationViews, session: str) -> ChatState:
    """The citizen's own messages and every message the bridge sent them, oldest first, notes never."""
    history = await views.chat_history(Address(WEB, session), limit=CHAT_HISTORY_ITEMS)
    keyed: list[tuple[datetime, int, int, ChatItem]] = []
    for line in history.lines:
        item_id = citizen_item_id(line.source_id) if line.source_id else f"m{line.message_id}"
        item = ChatItem(item_id, "citizen", "citizen", line.text, line.reference, line.at)
        keyed.append((line.at, 0, line.message_id, item))
    for sent in history.replies:
        item = reply_item(delivery_item_id(sent.delivery_id), sent.reply, sent.at)
        keyed.append((sent.at, 1, sent.delivery_id, item))
    keyed.sort(key=lambda entry: entry[:3])
    items = tuple(entry[3] for entry in keyed[-CHAT_HISTORY_ITEMS:])
    case = history.last_case
    open_menu = None
    # A pending case's department menu, or a closed case's rating buttons while its question is open.
    if (case is not None and case.status is CaseStatus.PENDING) or (
        case is not None and history.rating_open == case.reference
    ):
        menus = [i for i in items if i.kind == ReplyKind.MENU.value and i.reference == case.reference]
        open_menu = menus[-1].id if menus else None
    return ChatState(items, case, open_menu, history.display_name, history.chosen_language)
