"""Satisfaction ratings for reports: the one query the report reads them through (a placeholder until they exist).

MERGE(service-levels): ratings (1–5, per case) arrive with the service-levels branch. Wire them here, and only
here: return one ``CaseRating`` per rated case opened in ``[start, end)``, e.g.
``select(cases.c.department, <ratings table>.c.score).join(cases, ...).where(cases.c.created_at >= start,
cases.c.created_at < end)``. Everything else (count, mean, distribution per department and overall; the CLI's
columns; the desk's chart) already reads what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.store import Tx


@dataclass(frozen=True, slots=True)
class CaseRating:
    """A rated case's department (None while unrouted) and the score its citizen gave (1–5)."""

    department: str | None
    score: int


async def case_ratings(tx: Tx, *, start: datetime, end: datetime) -> list[CaseRating]:
    """Ratings of cases opened in ``[start, end)``: none yet, until the ratings table exists (see above)."""
    del tx, start, end  # MERGE(service-levels): query the ratings table here
    return []
