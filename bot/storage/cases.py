"""Cases: a citizen chat's conversation with one department, from its first message to closing."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, insert, select, update

from bot.model import Address, Case, CaseId, CaseStatus, Citizen, CitizenId, DepartmentKey, Platform
from bot.storage.engine import Queries
from bot.storage.tables import cases

#: Reference alphabet: Crockford's base32, no I, L, O, U to misread.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str = "CB") -> str:
    """A short random case reference such as ``CB-7K2Q9M`` (matches ``[A-Z]{2,}-[0-9A-Z-]{4,}``)."""
    return prefix + "-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


def case_from_row(row: Row[Any]) -> Case:
    """A ``Case`` from a row holding the ``cases`` columns."""
    thread = (
        Address(Platform(row.thread_platform), row.thread_chat, row.thread_id) if row.thread_id is not None else None
    )
    root = (
        Address(Platform(row.thread_platform), row.thread_chat, row.root_id)
        if row.root_id is not None and row.thread_platform is not None
        else None
    )
    return Case(
        id=CaseId(row.id),
        reference=row.reference,
        citizen_id=CitizenId(row.citizen_id),
        chat=Address(Platform(row.chat_platform), row.chat_id),
        department=DepartmentKey(row.department) if row.department is not None else None,
        status=CaseStatus(row.status),
        thread=thread,
        root=root,
        previous_case_id=CaseId(row.previous_case_id) if row.previous_case_id is not None else None,
        claimed_by=row.claimed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        language=row.language,
        answer_due_at=row.answer_due_at,
        overdue=bool(row.overdue),
        first_answer_due_at=row.first_answer_due_at,
    )


def _touch_case(where: ColumnElement[bool]) -> Any:  # noqa: ANN401  # an UPDATE … RETURNING
    # One statement finds, touches and (on PostgreSQL) row-locks the case.
    return update(cases).where(where).values(updated_at=bindparam("p_now")).returning(*cases.c)


_TOUCH_ACTIVE_CASE = _touch_case(
    and_(
        cases.c.chat_platform == bindparam("p_platform"),
        cases.c.chat_id == bindparam("p_chat"),
        cases.c.status != CaseStatus.CLOSED.value,
    )
)
#: A citizen chat's cases, newest first: built once (its cache key is not worked out again per message).
_CASES_OF_CHAT = (
    select(cases)
    .where(cases.c.chat_platform == bindparam("p_platform"), cases.c.chat_id == bindparam("p_chat"))
    .order_by(cases.c.created_at.desc(), cases.c.id.desc())
    .limit(bindparam("p_limit"))
)
_TOUCH_CASE_BY_THREAD = _touch_case(
    and_(
        cases.c.thread_platform == bindparam("p_platform"),
        cases.c.thread_chat == bindparam("p_chat"),
        cases.c.thread_id == bindparam("p_thread"),
    )
)


class CaseQueries(Queries):
    """Finding, opening, touching and saving cases."""

    async def active_case(self, chat: Address) -> Case | None:
        """The citizen chat's open or pending case, if any."""
        return await self._one_case(
            and_(
                cases.c.chat_platform == chat.platform,
                cases.c.chat_id == chat.chat,
                cases.c.status != CaseStatus.CLOSED.value,
            )
        )

    async def touch_active_case(self, chat: Address) -> Case | None:
        """The chat's open or pending case, marked as active now and locked until this transaction ends."""
        return await self._touch(_TOUCH_ACTIVE_CASE, {"p_platform": chat.platform, "p_chat": chat.chat})

    async def touch_case_by_thread(self, thread: Address) -> Case | None:
        """The case whose thread this is, marked as active now and locked until this transaction ends."""
        where = {"p_platform": thread.platform, "p_chat": thread.chat, "p_thread": thread.thread}
        return await self._touch(_TOUCH_CASE_BY_THREAD, where)

    async def _touch(self, statement: Any, where: dict[str, Any]) -> Case | None:  # noqa: ANN401  # a prebuilt UPDATE
        row = (await self._c.execute(statement, {**where, "p_now": self.now})).first()
        return None if row is None else case_from_row(row)

    async def case(self, case_id: CaseId) -> Case | None:
        """The case with this id."""
        return await self._one_case(cases.c.id == case_id)

    async def case_by_reference(self, reference: str) -> Case | None:
        """The case with this reference."""
        return await self._one_case(cases.c.reference == reference)

    async def case_by_thread(self, thread: Address) -> Case | None:
        """The case whose department thread is ``thread``."""
        return await self._one_case(
            and_(
                cases.c.thread_platform == thread.platform,
                cases.c.thread_chat == thread.chat,
                cases.c.thread_id == thread.thread,
            )
        )

    async def last_case(self, chat: Address) -> Case | None:
        """The citizen chat's most recent case, whatever its status."""
        rows = await self.cases_of_chat(chat, limit=1)
        return rows[0] if rows else None

    async def cases_of_chat(self, chat: Address, *, limit: int = 10) -> list[Case]:
        """A citizen chat's cases, newest first."""
        where = {"p_platform": chat.platform, "p_chat": chat.chat, "p_limit": limit}
        return [case_from_row(row) for row in await self._c.execute(_CASES_OF_CHAT, where)]

    async def cases_of_departments(self, departments: tuple[DepartmentKey, ...], *, limit: int = 200) -> list[Case]:
        """Cases of these departments: open first, then newest activity first (the desk's list)."""
        closed_last = (cases.c.status == CaseStatus.CLOSED.value).label("closed_last")
        query = (
            select(cases)
            .where(cases.c.department.in_(departments))
            .order_by(closed_last, cases.c.updated_at.desc(), cases.c.id.desc())
            .limit(limit)
        )
        return [case_from_row(row) for row in await self._c.execute(query)]

    async def create_case(
        self,
        *,
        citizen: Citizen,
        chat: Address,
        department: DepartmentKey | None,
        status: CaseStatus,
        previous: CaseId | None,
        language: str | None = None,
    ) -> Case:
        """Open a new case; a racing twin makes this raise IntegrityError (``atomic`` retries)."""
        reference = new_reference()
        result = await self._c.execute(
            insert(cases).values(
                reference=reference,
                citizen_id=citizen.id,
                chat_platform=chat.platform,
                chat_id=chat.chat,
                department=department,
                status=status.value,
                previous_case_id=previous,
                created_at=self.now,
                updated_at=self.now,
                language=language,
            )
        )
        case_id = CaseId(int(result.inserted_primary_key[0]))  # type: ignore[index]  # one-column key
        return Case(
            id=case_id,
            reference=reference,
            citizen_id=citizen.id,
            chat=chat,
            department=department,
            status=status,
            thread=None,
            root=None,
            previous_case_id=previous,
            claimed_by=None,
            created_at=self.now,
            updated_at=self.now,
            language=language,
        )

    async def save_case(self, case: Case) -> Case:
        """Write a case's changeable fields (department, status, thread, claim) and touch it."""
        await self._c.execute(
            update(cases)
            .where(cases.c.id == case.id)
            .values(
                department=case.department,
                status=case.status.value,
                thread_platform=case.thread.platform if case.thread else None,
                thread_chat=case.thread.chat if case.thread else None,
                thread_id=case.thread.thread if case.thread else None,
                root_id=case.root.thread if case.root else None,
                claimed_by=case.claimed_by,
                answer_due_at=case.answer_due_at,
                overdue=case.overdue,
                first_answer_due_at=case.first_answer_due_at,
                updated_at=self.now,
            )
        )
        return replace(case, updated_at=self.now)

    async def _one_case(self, where: ColumnElement[bool]) -> Case | None:
        row = (await self._c.execute(select(cases).where(where).limit(1))).first()
        return None if row is None else case_from_row(row)
