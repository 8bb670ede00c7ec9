"""Messages: what citizens, staff and the bridge said in a case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, insert, select

from bot.model import Address, Attachment, Case, CaseId, Citizen, Direction, Message, MessageId, Platform
from bot.storage.cases import case_from_row
from bot.storage.citizens import citizen_columns, citizen_from_row
from bot.storage.codec import attachments_from_json, attachments_to_json
from bot.storage.engine import Queries
from bot.storage.tables import cases, citizens, messages
from bot.storage.translations import translation_from_row

# Built once: the hot statements only bind new values (building and cache-keying a statement on
# every call cost more Python time than running it).
_INSERT_MESSAGE = insert(messages)
#: The citizen's columns in a query that also holds ``cases.citizen_id``.
_PERSON = "person_"
_RECEIPT_CONTEXT = (
    select(cases, *citizen_columns(_PERSON), messages.c.source_id.label("message_source"))
    .select_from(messages.join(cases, cases.c.id == messages.c.case_id))
    .join(citizens, citizens.c.id == cases.c.citizen_id)
    .where(messages.c.id == bindparam("p_message"))
)


def message_from_row(row: Row[Any]) -> Message:
    """A ``Message`` from a ``messages`` row."""
    return Message(
        id=MessageId(row.id),
        case_id=CaseId(row.case_id),
        direction=Direction(row.direction),
        author=row.author,
        text=row.text,
        attachments=attachments_from_json(list(row.attachments)),
        source_id=row.source_id,
        delivered_id=row.delivered_id,
        created_at=row.created_at,
        translation=translation_from_row(row),
    )


class MessageQueries(Queries):
    """Storing a case's messages and finding them again."""

    async def add_message(
        self,
        *,
        case_id: CaseId,
        direction: Direction,
        author: str,
        text: str,
        attachments: tuple[Attachment, ...] = (),
        source: Address | None = None,
        source_id: str | None = None,
    ) -> Message:
        """Store one message of a case."""
        result = await self._c.execute(
            _INSERT_MESSAGE,
            {
                "case_id": case_id,
                "direction": direction.value,
                "author": author,
                "text": text,
                "attachments": attachments_to_json(attachments),
                "source_platform": source.platform if source else None,
                "source_id": source_id,
                "delivered_id": None,
                "created_at": self.now,
            },
        )
        message_id = MessageId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
        return Message(message_id, case_id, direction, author, text, attachments, source_id, None, self.now)

    async def messages(self, case_id: CaseId) -> list[Message]:
        """A case's messages in the order they were stored."""
        query = select(messages).where(messages.c.case_id == case_id).order_by(messages.c.id)
        return [message_from_row(row) for row in await self._c.execute(query)]

    async def receipt_context(self, message_id: MessageId) -> tuple[Case, Citizen, str | None] | None:
        """For a delivered staff reply: its case, the case's citizen and the reply's platform id (one query)."""
        row = (await self._c.execute(_RECEIPT_CONTEXT, {"p_message": message_id})).first()
        if row is None:
            return None
        citizen = citizen_from_row(row, prefix=_PERSON)
        return case_from_row(row), citizen, row.message_source

    async def message_by_source(self, platform: Platform, source_id: str) -> Message | None:
        """The stored message that came from this platform message id."""
        query = (
            select(messages)
            .where(messages.c.source_platform == platform, messages.c.source_id == source_id)
            .order_by(messages.c.id)
            .limit(1)
        )
        row = (await self._c.execute(query)).first()
        return None if row is None else message_from_row(row)
