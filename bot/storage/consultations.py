"""Subscriptions (consent), consultations and announcements, who received them, and answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, exists, func, insert, or_, select, update

from bot.consultations.model import (
    Answer,
    BroadcastKind,
    Consultation,
    ConsultationId,
    FollowKey,
    Subscription,
)
from bot.model import Address, CaseId, CitizenId, DeliveryState, DepartmentKey, Platform
from bot.storage.engine import Queries
from bot.storage.tables import (
    citizens,
    consultation_answers,
    consultation_recipients,
    consultations,
    deliveries,
    messages,
    subscription_offers,
    subscriptions,
)

#: Rows per ``executemany`` when a broadcast records its recipients.
RECIPIENT_BATCH = 1000
#: ``consultations.send_state`` while chunks are still to be queued, and once every chat was.
SENDING, SENT = "sending", "sent"


@dataclass(frozen=True, slots=True)
class SendBookmark:
    """Where an unfinished send stands: queued up to subscription ``after``; ``report`` posts "sent to N" when done."""

    after: int
    report: bool


@dataclass(frozen=True, slots=True)
class Recipient:
    """A chat a broadcast goes to: its subscription (the send's bookmark), citizen and language."""

    subscription_id: int
    chat: Address
    citizen_id: CitizenId
    language: str


def consultation_from_row(row: Row[Any]) -> Consultation:
    """A ``Consultation`` from a ``consultations`` row."""
    return Consultation(
        id=ConsultationId(row.id),
        kind=BroadcastKind(row.kind),
        department=DepartmentKey(row.department),
        topic=FollowKey(row.topic) if row.topic is not None else None,
        text=row.text,
        options=tuple(str(option) for option in row.options),
        free_text=bool(row.free_text),
        closes_at=row.closes_at,
        closed_at=row.closed_at,
        show_who_answered=bool(row.show_who),
        created_by=row.created_by,
        created_at=row.created_at,
        recipients=int(row.recipients),
        sending=row.send_state == SENDING,
    )


def _subscription_from_row(row: Row[Any]) -> Subscription:
    return Subscription(
        chat=Address(Platform(row.chat_platform), row.chat_id),
        citizen_id=CitizenId(row.citizen_id),
        key=FollowKey(row.topic),
        language=row.language,
        consent_text=row.consent_text,
        subscribed_at=row.subscribed_at,
    )


def _of_chat(table: Any, chat: Address) -> Any:  # noqa: ANN401  # a Table and its WHERE clause
    return (table.c.chat_platform == chat.platform) & (table.c.chat_id == chat.chat)


class ConsultationQueries(Queries):
    """Consent, broadcasts, recipients and answers, inside one transaction."""

    # --- subscriptions -------------------------------------------------------------------------

    async def subscribe(
        self, chat: Address, *, citizen_id: CitizenId, key: FollowKey, language: str, consent_text: str
    ) -> bool:
        """Record consent to ``key``'s broadcasts (the words shown and now); False if the chat already follows it."""
        found = select(subscriptions.c.id).where(_of_chat(subscriptions, chat), subscriptions.c.topic == key)
        if (await self._c.execute(found)).first() is not None:
            return False
        await self._c.execute(
            insert(subscriptions).values(
                citizen_id=citizen_id,
                chat_platform=chat.platform,
                chat_id=chat.chat,
                topic=key,
                language=language,
                consent_text=consent_text,
                subscribed_at=self.now,
            )
        )
        return True

    async def unsubscribe(self, chat: Address, key: FollowKey | None = None) -> list[FollowKey]:
        """Withdraw consent to ``key`` (None: to everything); the keys no longer followed."""
        where = _of_chat(subscriptions, chat)
        if key is not None:
            where = where & (subscriptions.c.topic == key)
        gone = [FollowKey(row.topic) for row in await self._c.execute(select(subscriptions.c.topic).where(where))]
        if gone:
            await self._c.execute(delete(subscriptions).where(where))
        return gone

    async def drop_pending(self, lane: str) -> int:
        """Delete what is still waiting in an outbox lane (a chat's broadcasts, once it said ``stop``)."""
        pending = (deliveries.c.lane == lane) & (deliveries.c.state == DeliveryState.PENDING.value)
        return int((await self._c.execute(delete(deliveries).where(pending))).rowcount)

    async def subscriptions_of(self, chat: Address) -> list[Subscription]:
        """What a chat follows, in the order it opted in."""
        query = select(subscriptions).where(_of_chat(subscriptions, chat)).order_by(subscriptions.c.id)
        return [_subscription_from_row(row) for row in await self._c.execute(query)]

    async def subscriptions_of_citizens(self, ids: Sequence[CitizenId]) -> list[Subscription]:
        """The consent records of these citizens (an access request exports them)."""
        query = select(subscriptions).where(subscriptions.c.citizen_id.in_(list(ids))).order_by(subscriptions.c.id)
        return [_subscription_from_row(row) for row in await self._c.execute(query)]

    async def audience(self, keys: Sequence[FollowKey], *, after: int = 0, limit: int | None = None) -> list[Recipient]:
        """The chats following any of ``keys``, each once, in consent order from after subscription ``after``.

        A chat following several keys counts under the first of ``keys`` it follows. The language is
        the citizen's own choice when they made one, else the one they consented in.
        """
        clauses = []
        for index, key in enumerate(keys):
            clause = subscriptions.c.topic == key
            earlier = keys[:index]
            if earlier:
                other = subscriptions.alias("other")
                clause = clause & ~exists().where(
                    other.c.chat_platform == subscriptions.c.chat_platform,
                    other.c.chat_id == subscriptions.c.chat_id,
                    other.c.topic.in_(list(earlier)),
                )
            clauses.append(clause)
        query = (
            select(
                subscriptions.c.id,
                subscriptions.c.chat_platform,
                subscriptions.c.chat_id,
                subscriptions.c.citizen_id,
                func.coalesce(citizens.c.chosen_language, subscriptions.c.language).label("language"),
            )
            .join(citizens, citizens.c.id == subscriptions.c.citizen_id)
            .where(or_(*clauses), subscriptions.c.id > after)
            .order_by(subscriptions.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [
            Recipient(
                int(row.id),
                Address(Platform(row.chat_platform), row.chat_id),
                CitizenId(row.citizen_id),
                str(row.language),
            )
            for row in await self._c.execute(query)
        ]

    async def was_offered(self, citizen_id: CitizenId) -> bool:
        """Whether the citizen was already offered to subscribe (they are offered once, ever)."""
        query = select(subscription_offers.c.citizen_id).where(subscription_offers.c.citizen_id == citizen_id)
        return (await self._c.execute(query)).first() is not None

    async def mark_offered(self, citizen_id: CitizenId, department: DepartmentKey) -> None:
        """Remember that the citizen was offered to subscribe."""
        await self._c.execute(
            insert(subscription_offers).values(citizen_id=citizen_id, department=department, offered_at=self.now)
        )

    # --- consultations and announcements -------------------------------------------------------

    async def add_consultation(
        self,
        *,
        kind: BroadcastKind,
        department: DepartmentKey,
        topic: FollowKey | None,
        text: str,
        options: Sequence[str],
        free_text: bool,
        closes_at: datetime | None,
        show_who_answered: bool,
        created_by: str,
        report_when_sent: bool = False,
    ) -> Consultation:
        """Store a new announcement or consultation, its send not begun (``recipients`` 0, state "sending")."""
        result = await self._c.execute(
            insert(consultations).values(
                kind=kind.value,
                department=department,
                topic=topic,
                text=text,
                options=list(options),
                free_text=free_text,
                show_who=show_who_answered,
                closes_at=closes_at,
                closed_at=None,
                created_by=created_by,
                created_at=self.now,
                recipients=0,
                send_state=SENDING,
                queued_until=0,
                report_when_sent=report_when_sent,
            )
        )
        found = await self.consultation(ConsultationId(int(result.inserted_primary_key[0])))  # type: ignore[index]  # one-column key
        assert found is not None  # noqa: S101  # inserted just above
        return found

    async def consultation(self, consultation_id: ConsultationId) -> Consultation | None:
        """One announcement or consultation."""
        query = select(consultations).where(consultations.c.id == consultation_id)
        row = (await self._c.execute(query)).one_or_none()
        return consultation_from_row(row) if row is not None else None

    async def consultations(self, *, department: DepartmentKey | None = None) -> list[Consultation]:
        """Every announcement and consultation, newest first (of one department, if given)."""
        query = select(consultations).order_by(consultations.c.id.desc())
        if department is not None:
            query = query.where(consultations.c.department == department)
        return [consultation_from_row(row) for row in await self._c.execute(query)]

    async def close_consultation(self, consultation_id: ConsultationId) -> None:
        """Stop taking answers now (a consultation already closed keeps its closing time)."""
        await self._c.execute(
            update(consultations)
            .where(consultations.c.id == consultation_id, consultations.c.closed_at.is_(None))
            .values(closed_at=self.now)
        )

    async def hold_send(self, consultation_id: ConsultationId) -> SendBookmark | None:
        """Lock an unfinished send for this transaction and say where it stands; None once it is finished.

        The row lock (a write on SQLite, where writers take turns) makes two processes continuing one send
        take turns, each reading the bookmark the other committed: no chat is queued twice.
        """
        held = (
            update(consultations)
            .where(consultations.c.id == consultation_id, consultations.c.send_state == SENDING)
            .values(queued_until=consultations.c.queued_until)
            .returning(consultations.c.queued_until, consultations.c.report_when_sent)
        )
        row = (await self._c.execute(held)).first()
        return None if row is None else SendBookmark(int(row.queued_until), bool(row.report_when_sent))

    async def advance_send(self, consultation_id: ConsultationId, *, until: int, finished: bool) -> None:
        """Move a send's bookmark to subscription ``until``; ``finished`` when no chat is left to queue."""
        values: dict[str, object] = {"queued_until": until}
        if finished:
            values["send_state"] = SENT
        await self._c.execute(update(consultations).where(consultations.c.id == consultation_id).values(**values))

    async def unfinished_sends(self) -> list[ConsultationId]:
        """Sends with chats still to queue, oldest first (a process that stopped midway left them)."""
        query = select(consultations.c.id).where(consultations.c.send_state == SENDING).order_by(consultations.c.id)
        return [ConsultationId(int(row.id)) for row in await self._c.execute(query)]

    async def add_recipients(
        self, consultation_id: ConsultationId, recipients: Sequence[Recipient], *, listed: bool
    ) -> None:
        """Count more chats a broadcast went to; ``listed`` records which (a consultation's typed answers need it)."""
        if listed:
            rows = [
                {"consultation_id": consultation_id, "chat_platform": r.chat.platform, "chat_id": r.chat.chat}
                | {"citizen_id": r.citizen_id}
                for r in recipients
            ]
            for start in range(0, len(rows), RECIPIENT_BATCH):
                await self._c.execute(insert(consultation_recipients), rows[start : start + RECIPIENT_BATCH])
        await self._c.execute(
            update(consultations)
            .where(consultations.c.id == consultation_id)
            .values(recipients=consultations.c.recipients + len(recipients))
        )

    async def was_sent(self, consultation_id: ConsultationId, chat: Address) -> bool:
        """Whether the consultation went to this chat."""
        query = select(consultation_recipients.c.chat_id).where(
            consultation_recipients.c.consultation_id == consultation_id, _of_chat(consultation_recipients, chat)
        )
        return (await self._c.execute(query)).first() is not None

    async def latest_consultation_of(self, chat: Address) -> Consultation | None:
        """The consultation most recently sent to this chat, open or not."""
        query = (
            select(consultations)
            .join(consultation_recipients, consultation_recipients.c.consultation_id == consultations.c.id)
            .where(_of_chat(consultation_recipients, chat))
            .order_by(consultations.c.id.desc())
            .limit(1)
        )
        row = (await self._c.execute(query)).one_or_none()
        return consultation_from_row(row) if row is not None else None

    async def last_message_at(self, case_id: CaseId) -> datetime | None:
        """When the case's latest message was stored (a typed number after it belongs to the case)."""
        query = select(messages.c.created_at).where(messages.c.case_id == case_id)
        return (await self._c.execute(query.order_by(messages.c.id.desc()).limit(1))).scalar_one_or_none()

    # --- answers -------------------------------------------------------------------------------

    async def save_answer(
        self,
        consultation_id: ConsultationId,
        chat: Address,
        *,
        citizen_id: CitizenId | None,
        option: int | None = None,
        text: str | None = None,
    ) -> bool:
        """Record the chat's answer, replacing an earlier one; True if it replaced one."""
        where = (consultation_answers.c.consultation_id == consultation_id) & _of_chat(consultation_answers, chat)
        values = {"option": option, "text": text, "answered_at": self.now, "citizen_id": citizen_id}
        changed = await self._c.execute(update(consultation_answers).where(where).values(**values))
        if changed.rowcount:
            return True
        await self._c.execute(
            insert(consultation_answers).values(
                consultation_id=consultation_id, chat_platform=chat.platform, chat_id=chat.chat, **values
            )
        )
        return False

    async def answers(self, consultation_id: ConsultationId) -> list[tuple[Answer, str | None]]:
        """Every answer to a consultation, oldest first, with the answering citizen's display name."""
        query = (
            select(consultation_answers, citizens.c.display_name)
            .outerjoin(citizens, citizens.c.id == consultation_answers.c.citizen_id)
            .where(consultation_answers.c.consultation_id == consultation_id)
            .order_by(consultation_answers.c.answered_at, consultation_answers.c.id)
        )
        return [(_answer_from_row(row), row.display_name) for row in await self._c.execute(query)]

    async def answers_of_citizens(self, ids: Sequence[CitizenId]) -> list[Answer]:
        """The answers these citizens gave (an access request exports them)."""
        query = (
            select(consultation_answers)
            .where(consultation_answers.c.citizen_id.in_(list(ids)))
            .order_by(consultation_answers.c.id)
        )
        return [_answer_from_row(row) for row in await self._c.execute(query)]


def _answer_from_row(row: Row[Any]) -> Answer:
    return Answer(
        consultation_id=ConsultationId(row.consultation_id),
        chat=Address(Platform(row.chat_platform), row.chat_id),
        citizen_id=CitizenId(row.citizen_id) if row.citizen_id is not None else None,
        option=row.option,
        text=row.text,
        answered_at=row.answered_at,
    )
