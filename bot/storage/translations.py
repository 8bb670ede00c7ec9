"""Machine translations kept on message rows: the context a translation needs, and its outcome, once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, select, update

from bot.model import Body, Case, Citizen, DeliveryId, Direction, MessageId, Translation
from bot.storage.cases import case_from_row
from bot.storage.citizens import citizen_columns, citizen_from_row
from bot.storage.codec import body_to_json
from bot.storage.engine import Queries
from bot.storage.tables import cases, citizens, deliveries, messages

_PERSON = "person_"
_CONTEXT = (
    select(
        cases,
        *citizen_columns(_PERSON),
        messages.c.text.label("message_text"),
        messages.c.direction.label("message_direction"),
        messages.c.translated_from,
        messages.c.translated_to,
        messages.c.translation,
        messages.c.translation_error,
    )
    .select_from(messages.join(cases, cases.c.id == messages.c.case_id))
    .join(citizens, citizens.c.id == cases.c.citizen_id)
    .where(messages.c.id == bindparam("p_message"))
)


def translation_from_row(row: Row[Any]) -> Translation | None:
    """The translation a ``messages`` row holds; None when there is none to show (none made, or none needed)."""
    if row.translated_from is None or (row.translation is None and row.translation_error is None):
        return None
    return Translation(row.translated_from, row.translated_to, row.translation, row.translation_error)


@dataclass(frozen=True, slots=True)
class TranslationContext:
    """A message about to be delivered, with its case, its citizen and what was decided about its translation.

    ``decided`` is True once an outcome is stored (a translation, a failure, or "same language").
    """

    case: Case
    citizen: Citizen
    text: str
    direction: Direction
    decided: bool
    translation: Translation | None


class TranslationQueries(Queries):
    """Reading a message's translation context and storing the outcome, once per message."""

    async def translation_context(self, message_id: MessageId) -> TranslationContext | None:
        """The message with its case and citizen (one query); None if it is gone (erased)."""
        row = (await self._c.execute(_CONTEXT, {"p_message": message_id})).first()
        if row is None:
            return None
        return TranslationContext(
            case=case_from_row(row),
            citizen=citizen_from_row(row, prefix=_PERSON),
            text=row.message_text,
            direction=Direction(row.message_direction),
            decided=row.translated_from is not None,
            translation=translation_from_row(row),
        )

    async def record_translation(self, message_id: MessageId, outcome: Translation) -> bool:
        """Store the outcome unless one is stored already; True if this call stored it."""
        result = await self._c.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.translated_from.is_(None))
            .values(
                translated_from=outcome.source,
                translated_to=outcome.target,
                translation=outcome.text,
                translation_error=outcome.error[:300] if outcome.error else None,
            )
        )
        return bool(result.rowcount)

    async def replace_body(self, delivery_id: DeliveryId, body: Body) -> None:
        """What a pending delivery sends, changed (a staff reply that goes out translated)."""
        await self._c.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(body=body_to_json(body)))
