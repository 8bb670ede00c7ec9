"""What a Slack event or button press means for the bridge, before any I/O.

``classify_message`` sorts a ``message`` event into a person's (or bot's) words in
a case thread, an edit or deletion of such words, or nothing; ``classify_action``
reads a ``block_actions`` payload. Anything odd yields None, never an exception.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.render import ACTION_KINDS, TRANSFER_ACTION
from bot.events import StaffActionKind

#: Message subtypes that carry a person's words; every other subtype (joins, topic changes, …) is ignored.
WORD_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
BOT_SUBTYPE = "bot_message"
EDIT_SUBTYPES = frozenset({"message_changed", "message_deleted"})


@dataclass(frozen=True, slots=True)
class SlackFile:
    """A file attached to a Slack message: where to fetch it and what Slack says about it."""

    name: str
    mime_type: str
    size: int
    url: str


@dataclass(frozen=True, slots=True)
class ThreadWords:
    """Someone wrote in a thread of a listed channel."""

    channel: str
    thread_ts: str
    ts: str
    user: str
    text: str
    is_bot: bool
    bot_name: str | None
    files: tuple[SlackFile, ...]


@dataclass(frozen=True, slots=True)
class ThreadEdit:
    """Someone edited (or deleted) a message in a thread of a listed channel."""

    channel: str
    thread_ts: str
    ts: str
    deleted: bool


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A case card control was used; ``thread_ts`` is the root the card is."""

    channel: str
    thread_ts: str
    user: str
    user_name: str | None
    action: StaffActionKind
    department: str | None
    event_id: str


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _files(raw: object, *, limit: int = 10) -> tuple[SlackFile, ...]:
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw[:limit]:
        entry = _dict(item)
        url = _str(entry.get("url_private_download")) or _str(entry.get("url_private"))
        if url is None:
            continue
        size = entry.get("size")
        found.append(
            SlackFile(
                name=_str(entry.get("name")) or _str(entry.get("title")) or "file",
                mime_type=_str(entry.get("mimetype")) or "application/octet-stream",
                size=size if isinstance(size, int) else 0,
                url=url,
            )
        )
    return tuple(found)


def classify_message(
    event: Mapping[str, Any], *, channels: Collection[str], bot_user_id: str | None
) -> ThreadWords | ThreadEdit | None:
    """What a ``message`` event means: thread words, a thread edit, or nothing for the bridge."""
    channel = _str(event.get("channel"))
    if event.get("type") != "message" or channel is None or channel not in channels:
        return None
    subtype = event.get("subtype")
    if subtype in EDIT_SUBTYPES:
        return _edit(event, channel, deleted=subtype == "message_deleted")
    if subtype not in WORD_SUBTYPES and subtype != BOT_SUBTYPE:
        return None
    ts = _str(event.get("ts"))
    thread_ts = _str(event.get("thread_ts"))
    if ts is None or thread_ts is None or thread_ts == ts:
        return None  # top-level channel messages (and thread roots) are not case replies
    user = _str(event.get("user")) or _str(event.get("bot_id")) or ""
    is_bot = bool(subtype == BOT_SUBTYPE or event.get("bot_id") or (bot_user_id and user == bot_user_id))
    text = event.get("text")
    return ThreadWords(
        channel=channel,
        thread_ts=thread_ts,
        ts=ts,
        user=user,
        text=text if isinstance(text, str) else "",
        is_bot=is_bot,
        bot_name=_str(event.get("username")) or _str(_dict(event.get("bot_profile")).get("name")),
        files=_files(event.get("files")),
    )


def _edit(event: Mapping[str, Any], channel: str, *, deleted: bool) -> ThreadEdit | None:
    previous = _dict(event.get("previous_message"))
    if deleted:
        ts = _str(event.get("deleted_ts")) or _str(previous.get("ts"))
        thread_ts = _str(previous.get("thread_ts"))
    else:
        message = _dict(event.get("message"))
        if message.get("text") == previous.get("text") and message.get("files") == previous.get("files"):
            return None  # an unfurl, a reply count or a reaction changed, not the words
        ts = _str(message.get("ts"))
        thread_ts = _str(message.get("thread_ts")) or _str(previous.get("thread_ts"))
    if ts is None or thread_ts is None or ts == thread_ts:
        return None
    return ThreadEdit(channel=channel, thread_ts=thread_ts, ts=ts, deleted=deleted)


def classify_action(payload: Mapping[str, Any], *, channels: Collection[str]) -> ButtonPress | None:
    """What a ``block_actions`` payload from a case card means, or None."""
    actions = payload.get("actions")
    if payload.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    action = _dict(actions[0])
    kind = ACTION_KINDS.get(str(action.get("action_id")))
    container = _dict(payload.get("container"))
    message = _dict(payload.get("message"))
    channel = _str(container.get("channel_id")) or _str(_dict(payload.get("channel")).get("id"))
    root = _str(message.get("thread_ts")) or _str(container.get("message_ts")) or _str(message.get("ts"))
    user = _dict(payload.get("user"))
    user_id = _str(user.get("id"))
    if kind is None or channel is None or channel not in channels or root is None or user_id is None:
        return None
    department = None
    if action.get("action_id") == TRANSFER_ACTION:
        department = _str(_dict(action.get("selected_option")).get("value"))
        if department is None:
            return None
    trigger = _str(payload.get("trigger_id"))
    event_id = f"action:{trigger}" if trigger else f"action:{channel}:{root}:{action.get('action_ts')}"
    return ButtonPress(
        channel=channel,
        thread_ts=root,
        user=user_id,
        user_name=_str(user.get("name")) or _str(user.get("username")),
        action=kind,
        department=department,
        event_id=event_id,
    )
