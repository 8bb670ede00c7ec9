"""Inbound events cleaned at the boundary: every text and name made storable on any backend.

``clean_event`` runs ``bot.text_safety.clean_text`` over each free-text field an
adapter filled from the platform (message text, display and author names, file
names, a menu choice), so a NUL byte (PostgreSQL) or a lone surrogate (SQLite)
never reaches the database. Ids are left alone: they are the platform's own.
"""

from __future__ import annotations

from dataclasses import replace

from bot.events import (
    CitizenCommand,
    CitizenMessage,
    InboundEvent,
    MenuChoice,
    Sender,
    StaffAction,
    StaffEdit,
    StaffMessage,
)
from bot.model import FileData
from bot.text_safety import clean_text


def _sender(sender: Sender) -> Sender:
    return replace(sender, display_name=clean_text(sender.display_name))


def _files(files: tuple[FileData, ...]) -> tuple[FileData, ...]:
    return tuple(replace(f, name=clean_text(f.name)) for f in files)


def clean_event(event: InboundEvent) -> InboundEvent:
    """``event`` with its texts and names cleaned (see the module's docstring)."""
    match event:
        case CitizenMessage():
            return replace(event, sender=_sender(event.sender), text=clean_text(event.text), files=_files(event.files))
        case CitizenCommand():
            return replace(event, sender=_sender(event.sender))
        case MenuChoice():
            return replace(event, sender=_sender(event.sender), choice=clean_text(event.choice))
        case StaffMessage():
            return replace(
                event,
                author_name=clean_text(event.author_name),
                text=clean_text(event.text),
                files=_files(event.files),
            )
        case StaffAction():
            department = clean_text(event.department) if event.department is not None else None
            return replace(event, actor_name=clean_text(event.actor_name), department=department)  # type: ignore[arg-type]  # a cleaned key is still a key
        case StaffEdit():
            return event
