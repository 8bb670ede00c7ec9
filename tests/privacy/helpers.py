"""Shared steps of the privacy tests: a closed case with a file, and reading raw columns back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.events import StaffActionKind
from bot.model import FileData
from bot.storage.store import Tx
from bot.storage.tables import blobs, cases, citizens, messages
from tests.bridge import Bridge

PHRASE = "Zanzibar-quokka-7731 lives at 12 Elm Row"
NAME = "Philippa Quibble"
DAY = 86400.0


async def closed_case(bridge: Bridge, *, user: int = 111, text: str = PHRASE) -> str:
    """A citizen writes (with a photo), staff answer and close; returns the case reference."""
    photo = FileData("bin.jpg", "image/jpeg", b"\xff\xd8 quokka bytes")
    await bridge.telegram.receive(user=user, text=f"My bin: {text}", name=NAME, files=[photo])
    await bridge.settle()
    thread = bridge.slack.threads[-1]
    await bridge.slack.reply(thread, f"We will look at {text}")
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    await bridge.settle()
    return thread.reference


async def rows(bridge: Bridge, table: Any) -> list[dict[str, Any]]:  # any Table
    """Every row of ``table`` as plain dicts."""

    async def read(tx: Tx) -> list[dict[str, Any]]:
        return [
            dict(row._mapping) for row in await tx.connection.execute(select(table))
        ]  # SQLAlchemy's public row mapping

    return await bridge.store.read(read)


__all__ = ["DAY", "NAME", "PHRASE", "blobs", "cases", "citizens", "closed_case", "messages", "rows"]
