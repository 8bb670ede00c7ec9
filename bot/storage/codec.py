"""Turns model values into JSON-ready dicts for the database, and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.model import (
    Attachment,
    BlobId,
    Body,
    CaseCard,
    CaseStatus,
    CitizenReply,
    DepartmentKey,
    MenuOption,
    Platform,
    PostKind,
    ReplyKind,
    ThreadPost,
)

Json = dict[str, Any]


def attachments_to_json(items: tuple[Attachment, ...]) -> list[Json]:
    """Attachment metadata as stored beside a message or delivery."""
    return [{"name": a.name, "mime_type": a.mime_type, "size": a.size, "blob_id": a.blob_id} for a in items]


def attachments_from_json(items: list[Json]) -> tuple[Attachment, ...]:
    """The inverse of ``attachments_to_json``."""
    return tuple(
        Attachment(
            name=str(a["name"]),
            mime_type=str(a["mime_type"]),
            size=int(a["size"]),
            blob_id=BlobId(int(a["blob_id"])) if a.get("blob_id") is not None else None,
        )
        for a in items
    )


def body_to_json(body: Body) -> Json:
    """A delivery body as a JSON object tagged with its type."""
    if isinstance(body, ThreadPost):
        card = body.card
        return {
            "type": "thread_post",
            "kind": body.kind.value,
            "text": body.text,
            "author": body.author,
            "about": body.about,
            "attachments": attachments_to_json(body.attachments),
            "card": {
                "reference": card.reference,
                "department_key": card.department_key,
                "department_name": card.department_name,
                "platform": card.platform,
                "citizen_name": card.citizen_name,
                "language": card.language,
                "status": card.status.value,
                "claimed_by": card.claimed_by,
                "answer_due_at": card.answer_due_at.isoformat() if card.answer_due_at else None,
                "overdue": card.overdue,
            },
        }
    return {
        "type": "citizen_reply",
        "kind": body.kind.value,
        "text": body.text,
        "reference": body.reference,
        "signature": body.signature,
        "attachments": attachments_to_json(body.attachments),
        "options": [{"key": o.key, "label": o.label} for o in body.options],
    }


def body_from_json(data: Json) -> Body:
    """The inverse of ``body_to_json``."""
    attachments = attachments_from_json(list(data.get("attachments", [])))
    if data["type"] == "thread_post":
        card = data["card"]
        return ThreadPost(
            kind=PostKind(data["kind"]),
            text=str(data["text"]),
            author=str(data["author"]),
            about=data.get("about"),
            attachments=attachments,
            card=CaseCard(
                reference=str(card["reference"]),
                department_key=DepartmentKey(str(card["department_key"])),
                department_name=str(card["department_name"]),
                platform=Platform(str(card["platform"])),
                citizen_name=str(card["citizen_name"]),
                language=card.get("language"),
                status=CaseStatus(card["status"]),
                claimed_by=card.get("claimed_by"),
                answer_due_at=datetime.fromisoformat(card["answer_due_at"]) if card.get("answer_due_at") else None,
                overdue=bool(card.get("overdue", False)),
            ),
        )
    return CitizenReply(
        kind=ReplyKind(data["kind"]),
        text=str(data["text"]),
        reference=str(data["reference"]),
        signature=data.get("signature"),
        attachments=attachments,
        options=tuple(MenuOption(key=str(o["key"]), label=str(o["label"])) for o in data.get("options", [])),
    )
