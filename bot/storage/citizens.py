"""Citizens: who wrote to the bridge, on which platform, under which name and language."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Row, insert, select, update

from bot.events import Sender
from bot.model import Citizen, CitizenId, Platform
from bot.storage.engine import Queries
from bot.storage.tables import citizens


def citizen_from_row(row: Row[Any], *, prefix: str = "") -> Citizen:
    """The one place a ``Citizen`` is built from a row: a ``citizens`` row, or columns labelled ``prefix + name``."""
    return Citizen(
        CitizenId(getattr(row, prefix + "id")),
        Platform(getattr(row, prefix + "platform")),
        getattr(row, prefix + "user_id"),
        getattr(row, prefix + "display_name"),
        getattr(row, prefix + "language"),
        getattr(row, prefix + "chosen_language"),
        getattr(row, prefix + "language_notice"),
    )


def citizen_columns(prefix: str) -> list[Any]:
    """The ``citizens`` columns labelled for ``citizen_from_row(row, prefix=prefix)`` in a joined query."""
    return [column.label(prefix + column.name) for column in citizens.c if column.name != "created_at"]


class CitizenQueries(Queries):
    """Finding, creating and renaming citizens."""

    async def citizen(self, sender: Sender) -> Citizen:
        """The stored citizen for ``sender``, created (or renamed) as needed."""
        row = (
            await self._c.execute(
                select(citizens).where(citizens.c.platform == sender.platform, citizens.c.user_id == sender.user_id)
            )
        ).first()
        if row is None:
            result = await self._c.execute(
                insert(citizens).values(
                    platform=sender.platform,
                    user_id=sender.user_id,
                    display_name=sender.display_name,
                    language=sender.language,
                    created_at=self.now,
                )
            )
            citizen_id = CitizenId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
            return Citizen(citizen_id, sender.platform, sender.user_id, sender.display_name, sender.language)
        citizen = citizen_from_row(row)
        language = sender.language or citizen.language
        if (citizen.display_name, citizen.language) != (sender.display_name, language):
            await self._c.execute(
                update(citizens)
                .where(citizens.c.id == citizen.id)
                .values(display_name=sender.display_name, language=language)
            )
            citizen = replace(citizen, display_name=sender.display_name, language=language)
        return citizen

    async def find_citizen(self, sender: Sender) -> Citizen | None:
        """The stored citizen for ``sender``, if they have written before (nothing is stored here)."""
        row = (
            await self._c.execute(
                select(citizens).where(citizens.c.platform == sender.platform, citizens.c.user_id == sender.user_id)
            )
        ).first()
        return None if row is None else citizen_from_row(row)

    async def save_citizen_language(self, citizen: Citizen) -> None:
        """Store the citizen's chosen language and the not-offered notice they were given."""
        await self._c.execute(
            update(citizens)
            .where(citizens.c.id == citizen.id)
            .values(chosen_language=citizen.chosen_language, language_notice=citizen.language_notice)
        )

    async def citizen_by_id(self, citizen_id: CitizenId) -> Citizen | None:
        """The citizen with this id."""
        row = (await self._c.execute(select(citizens).where(citizens.c.id == citizen_id))).first()
        return None if row is None else citizen_from_row(row)

    async def citizens_by_id(self, ids: set[CitizenId]) -> dict[CitizenId, Citizen]:
        """Several citizens at once, by id (the desk's case list)."""
        if not ids:
            return {}
        rows = await self._c.execute(select(citizens).where(citizens.c.id.in_(ids)))
        return {citizen.id: citizen for citizen in map(citizen_from_row, rows)}
