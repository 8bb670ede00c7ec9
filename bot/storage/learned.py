"""Learned routing examples: the department a case finally went to, by a staff transfer or the citizen's menu choice.

Only the label is stored (case, department, source, time). The example's text is the case's first
citizen message, read when the examples are listed, so it goes when the case's messages go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.model import CaseId, Direction
from bot.storage.engine import Queries
from bot.storage.tables import learned_examples, messages


class LabelSource(StrEnum):
    """Who said where a case belongs."""

    TRANSFER = "transfer"
    MENU = "menu"


@dataclass(frozen=True, slots=True)
class LabelledCase:
    """A case's first citizen message and the department it belongs to, with who said so and when."""

    case_id: CaseId
    text: str
    department: str
    source: LabelSource
    labelled_at: datetime


def _upsert(dialect: str) -> object:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(learned_examples)
    return statement.on_conflict_do_update(
        index_elements=[learned_examples.c.case_id],
        set_={
            "department": statement.excluded.department,
            "source": statement.excluded.source,
            "labelled_at": statement.excluded.labelled_at,
        },
    )


_UPSERT = {"postgresql": _upsert("postgresql"), "sqlite": _upsert("sqlite")}


class LearnedQueries(Queries):
    """Labelling a case with the department it belongs to, and reading the labelled cases back."""

    async def label_case(self, case_id: CaseId, department: str, source: LabelSource) -> None:
        """The case belongs to ``department``: a later label (the last transfer) replaces an earlier one."""
        values = {"case_id": case_id, "department": department, "source": source.value, "labelled_at": self.now}
        await self._c.execute(_UPSERT[self._c.dialect.name], values)  # type: ignore[arg-type]  # a prebuilt INSERT

    async def labelled_cases(self, *, limit: int = 10_000) -> list[LabelledCase]:
        """Labelled cases with their first citizen message, oldest label first; cases with no text left are skipped."""
        first = (
            select(messages.c.case_id, func.min(messages.c.id).label("first_id"))
            .where(messages.c.direction == Direction.CITIZEN.value)
            .group_by(messages.c.case_id)
            .subquery()
        )
        query = (
            select(learned_examples, messages.c.text)
            .join(first, first.c.case_id == learned_examples.c.case_id)
            .join(messages, and_(messages.c.id == first.c.first_id))
            .order_by(learned_examples.c.labelled_at, learned_examples.c.case_id)
            .limit(limit)
        )
        return [
            LabelledCase(CaseId(row.case_id), row.text, row.department, LabelSource(row.source), row.labelled_at)
            for row in await self._c.execute(query)
            if row.text.strip()
        ]
