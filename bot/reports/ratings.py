"""Satisfaction ratings for reports: the one query the report reads them through.

Count, mean and distribution per department and overall, the CLI's columns and the desk's chart all
read what ``case_ratings`` returns.
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
    """Ratings of cases opened in ``[start, end)``, each with its case's department."""
    return [CaseRating(rated.department, rated.score) for rated in await tx.ratings_of_cases_opened(start, end)]
