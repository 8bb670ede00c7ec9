"""Read models for the web chat and the desk: the queries behind ``bot.views.ConversationViews``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.model import (
    Address,
    Case,
    CaseId,
    CitizenReply,
    DeliveryId,
    DeliveryState,
    DepartmentKey,
    Direction,
    Side,
)
from bot.ratings import RatedCase
from bot.storage.codec import body_from_json
from bot.storage.engine import Queries
from bot.storage.tables import cases, citizens, deliveries, messages
from bot.views import (
    CaseSummary,
    CaseView,
    ChatHistory,
    CitizenLine,
    ConversationViews,
    Inbox,
    InboxQuery,
    SentReply,
)

if TYPE_CHECKING:
    from bot.storage.store import Store, Tx


class ViewQueries(Queries):
    """What a citizen's chat and the desk's case list read besides cases, citizens and messages."""

    async def citizen_lines(self, chat: Address, *, limit: int) -> list[CitizenLine]:
        """The newest ``limit`` messages the citizen wrote from ``chat``, newest first."""
        query = (
            select(messages.c.id, messages.c.text, messages.c.source_id, messages.c.created_at, cases.c.reference)
            .join(cases, cases.c.id == messages.c.case_id)
            .where(
                cases.c.chat_platform == chat.platform,
                cases.c.chat_id == chat.chat,
                messages.c.direction == Direction.CITIZEN.value,
            )
            .order_by(messages.c.id.desc())
            .limit(limit)
        )
        return [
            CitizenLine(row.id, row.text, row.source_id, row.reference, row.created_at)
            for row in await self._c.execute(query)
        ]

    async def replies_to_chat(self, chat: Address, *, limit: int) -> list[SentReply]:
        """The newest ``limit`` replies queued for ``chat`` that did not fail for good, newest first."""
        query = (
            select(deliveries.c.id, deliveries.c.body, deliveries.c.created_at)
            .where(
                deliveries.c.side == Side.CITIZEN.value,
                deliveries.c.target_platform == chat.platform,
                deliveries.c.target_chat == chat.chat,
                # Pending rows are about to reach the page (or already did, mid-send): show them.
                deliveries.c.state != DeliveryState.FAILED.value,
            )
            .order_by(deliveries.c.id.desc())
            .limit(limit)
        )
        replies = []
        for row in await self._c.execute(query):
            body = body_from_json(dict(row.body))
            if isinstance(body, CitizenReply):
                replies.append(SentReply(DeliveryId(row.id), body, row.created_at))
        return replies

    async def chosen_language(self, chat: Address) -> str | None:
        """The language the citizen writing from ``chat`` chose, if they did."""
        query = select(citizens.c.chosen_language).where(
            citizens.c.platform == chat.platform, citizens.c.user_id == chat.chat
        )
        return (await self._c.execute(query)).scalar_one_or_none()

    async def display_name(self, chat: Address) -> str | None:
        """The name the citizen writing from ``chat`` gave, if they are stored."""
        query = select(citizens.c.display_name).where(
            citizens.c.platform == chat.platform, citizens.c.user_id == chat.chat
        )
        return (await self._c.execute(query)).scalar_one_or_none()

    async def last_spoken(self, case_ids: list[CaseId]) -> dict[CaseId, tuple[str, Direction]]:
        """For each case, the text and direction of its latest citizen or staff message."""
        spoken = (Direction.CITIZEN.value, Direction.STAFF.value)
        latest = (
            select(func.max(messages.c.id).label("id"))
            .where(messages.c.case_id.in_(case_ids), messages.c.direction.in_(spoken))
            .group_by(messages.c.case_id)
            .subquery()
        )
        query = select(messages.c.case_id, messages.c.text, messages.c.direction).join(
            latest, latest.c.id == messages.c.id
        )
        return {CaseId(row.case_id): (row.text, Direction(row.direction)) for row in await self._c.execute(query)}


class StoreViews(ConversationViews):
    """``ConversationViews`` over the store: each view is one read transaction."""

    def __init__(self, *, store: Store) -> None:
        self._store = store

    def now(self) -> datetime:
        """The store's clock."""
        return self._store.now()

    async def chat_history(self, chat: Address, *, limit: int) -> ChatHistory:
        """See ``ConversationViews.chat_history``."""

        async def read(tx: Tx) -> ChatHistory:
            last_case = await tx.last_case(chat)
            rating = await tx.rating_of(last_case.id) if last_case is not None else None
            return ChatHistory(
                lines=tuple(await tx.citizen_lines(chat, limit=limit)),
                replies=tuple(await tx.replies_to_chat(chat, limit=limit)),
                last_case=last_case,
                display_name=await tx.display_name(chat),
                chosen_language=await tx.chosen_language(chat),
                rating_open=last_case.reference if last_case and rating and rating.awaits_score(tx.now) else None,
            )

        return await self._store.read(read)

    async def case_summaries(self, departments: tuple[DepartmentKey, ...]) -> list[CaseSummary]:
        """See ``ConversationViews.case_summaries``."""

        async def read(tx: Tx) -> list[CaseSummary]:
            found = await tx.cases_of_departments(departments) if departments else []
            return await _summaries(tx, [(case, False) for case in found])

        return await self._store.read(read)

    async def inbox(self, query: InboxQuery) -> Inbox:
        """See ``ConversationViews.inbox``."""

        async def read(tx: Tx) -> Inbox:
            rows = await _summaries(tx, await tx.inbox_cases(query))
            return Inbox(
                rows=tuple(rows),
                counts=await tx.inbox_counts(query),
                per_department=await tx.open_per_department(query.departments),
            )

        return await self._store.read(read)

    async def case_view(self, reference: str) -> CaseView | None:
        """See ``ConversationViews.case_view``."""

        async def read(tx: Tx) -> CaseView | None:
            case = await tx.case_by_reference(reference)
            if case is None:
                return None
            citizen = await tx.citizen_by_id(case.citizen_id)
            previous = await tx.case(case.previous_case_id) if case.previous_case_id is not None else None
            others = [other for other in await tx.cases_of_citizen(case.citizen_id) if other.id != case.id]
            return CaseView(
                case,
                citizen,
                tuple(await tx.messages(case.id)),
                previous_reference=previous.reference if previous is not None else None,
                earlier=tuple(others),
                rating=await tx.rating_of(case.id),
            )

        return await self._store.read(read)

    async def ratings(self, *, since: datetime | None = None, until: datetime | None = None) -> list[RatedCase]:
        """Every satisfaction score given in ``[since, until)``: (department, score, rated_at), for the reports."""

        async def read(tx: Tx) -> list[RatedCase]:
            return await tx.ratings_between(since, until)

        return await self._store.read(read)


async def _summaries(tx: Tx, found: list[tuple[Case, bool]]) -> list[CaseSummary]:
    """List rows for these cases (each with whether it is overdue): the citizen and who spoke last."""
    if not found:
        return []
    people = await tx.citizens_by_id({case.citizen_id for case, _ in found})
    last = await tx.last_spoken([case.id for case, _ in found])
    return [
        CaseSummary(
            case=case,
            citizen=people.get(case.citizen_id),
            last_text=last[case.id][0] if case.id in last else "",
            last_direction=last[case.id][1] if case.id in last else None,
            overdue=late,
        )
        for case, late in found
    ]
