"""Inbound events as JSON and back: how a set-aside event is kept so an admin can retry it.

Files travel as base64 (an event is set aside rarely, and is erased with its citizen).
"""

from __future__ import annotations

import base64
from typing import Any

from bot.events import (
    CitizenCommand,
    CitizenCommandKind,
    CitizenMessage,
    InboundEvent,
    MenuChoice,
    Sender,
    StaffAction,
    StaffActionKind,
    StaffEdit,
    StaffMessage,
)
from bot.model import Address, DepartmentKey, FileData, Platform

Json = dict[str, Any]


def _address(address: Address) -> Json:
    return {"platform": address.platform, "chat": address.chat, "thread": address.thread}


def _address_from(data: Json) -> Address:
    return Address(Platform(data["platform"]), str(data["chat"]), data.get("thread"))


def _sender(sender: Sender) -> Json:
    return {
        "platform": sender.platform,
        "user_id": sender.user_id,
        "display_name": sender.display_name,
        "language": sender.language,
    }


def _sender_from(data: Json) -> Sender:
    return Sender(Platform(data["platform"]), str(data["user_id"]), str(data["display_name"]), data.get("language"))


def _files(files: tuple[FileData, ...]) -> list[Json]:
    return [{"name": f.name, "mime_type": f.mime_type, "data": base64.b64encode(f.data).decode()} for f in files]


def _files_from(items: list[Json]) -> tuple[FileData, ...]:
    return tuple(FileData(str(f["name"]), str(f["mime_type"]), base64.b64decode(f["data"])) for f in items)


def event_to_json(event: InboundEvent) -> Json:  # one shape per kind of event
    """``event`` as a JSON object tagged with its type."""
    match event:
        case CitizenMessage():
            return {
                "type": "citizen_message",
                "event_id": event.event_id,
                "sender": _sender(event.sender),
                "chat": _address(event.chat),
                "text": event.text,
                "files": _files(event.files),
                "source_id": event.source_id,
                "edited": event.edited,
            }
        case CitizenCommand():
            return {
                "type": "citizen_command",
                "event_id": event.event_id,
                "sender": _sender(event.sender),
                "chat": _address(event.chat),
                "command": event.command.value,
                "argument": event.argument,
            }
        case MenuChoice():
            return {
                "type": "menu_choice",
                "event_id": event.event_id,
                "sender": _sender(event.sender),
                "chat": _address(event.chat),
                "choice": event.choice,
            }
        case StaffMessage():
            return {
                "type": "staff_message",
                "event_id": event.event_id,
                "thread": _address(event.thread),
                "author_id": event.author_id,
                "author_name": event.author_name,
                "text": event.text,
                "is_bot": event.is_bot,
                "files": _files(event.files),
                "source_id": event.source_id,
            }
        case StaffAction():
            return {
                "type": "staff_action",
                "event_id": event.event_id,
                "thread": _address(event.thread),
                "actor_id": event.actor_id,
                "actor_name": event.actor_name,
                "action": event.action.value,
                "department": event.department,
                "reason": event.reason,
                "answer": event.answer,
            }
        case StaffEdit():
            return {
                "type": "staff_edit",
                "event_id": event.event_id,
                "thread": _address(event.thread),
                "source_id": event.source_id,
                "deleted": event.deleted,
            }


def event_from_json(data: Json) -> InboundEvent:  # one shape per kind of event
    """The inverse of ``event_to_json``."""
    kind, event_id = data["type"], str(data["event_id"])
    if kind == "citizen_message":
        return CitizenMessage(
            event_id=event_id,
            sender=_sender_from(data["sender"]),
            chat=_address_from(data["chat"]),
            text=str(data["text"]),
            files=_files_from(data["files"]),
            source_id=data.get("source_id"),
            edited=bool(data["edited"]),
        )
    if kind == "citizen_command":
        return CitizenCommand(
            event_id,
            _sender_from(data["sender"]),
            _address_from(data["chat"]),
            CitizenCommandKind(data["command"]),
            str(data.get("argument", "")),
        )
    if kind == "menu_choice":
        return MenuChoice(event_id, _sender_from(data["sender"]), _address_from(data["chat"]), str(data["choice"]))
    if kind == "staff_message":
        return StaffMessage(
            event_id=event_id,
            thread=_address_from(data["thread"]),
            author_id=str(data["author_id"]),
            author_name=str(data["author_name"]),
            text=str(data["text"]),
            is_bot=bool(data["is_bot"]),
            files=_files_from(data["files"]),
            source_id=data.get("source_id"),
        )
    if kind == "staff_action":
        department = data.get("department")
        return StaffAction(
            event_id=event_id,
            thread=_address_from(data["thread"]),
            actor_id=str(data["actor_id"]),
            actor_name=str(data["actor_name"]),
            action=StaffActionKind(data["action"]),
            department=DepartmentKey(department) if department is not None else None,
            reason=data.get("reason"),
            answer=data.get("answer"),
        )
    if kind == "staff_edit":
        return StaffEdit(event_id, _address_from(data["thread"]), str(data["source_id"]), bool(data["deleted"]))
    raise ValueError(f"unknown event type {kind!r}")
