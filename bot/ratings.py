"""Satisfaction after close: a case's rating (1-5) and optional comment, and when the question is still open.

Pure values and rules; the relay asks and records (``bot.relay.ratings``), the store keeps one row per case
(``bot.storage.ratings``), the web chat reads whether a case's rating buttons are live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.model import CaseId

#: How long after the question a citizen may still rate (a typed number counts only while it is open).
RATING_OPEN = timedelta(days=7)
#: How long after rating the citizen's next message counts as their comment (later ones open a new case).
COMMENT_OPEN = timedelta(hours=1)
#: The menu-choice key of a rating button: ``rate:REFERENCE:SCORE`` (a button names its case).
RATE_PREFIX = "rate:"
SCORES = range(1, 6)


@dataclass(frozen=True, slots=True)
class Rating:
    """A closed case's satisfaction question and, once answered, the citizen's score and comment."""

    case_id: CaseId
    department: str | None
    asked_at: datetime
    score: int | None = None
    rated_at: datetime | None = None
    comment: str | None = None
    commented_at: datetime | None = None

    def awaits_score(self, now: datetime) -> bool:
        """The question is open: asked, not answered, and not older than ``RATING_OPEN``."""
        return self.score is None and now - self.asked_at <= RATING_OPEN

    def awaits_comment(self, now: datetime) -> bool:
        """Rated within ``COMMENT_OPEN`` and no comment yet: the citizen's next message is their comment."""
        return self.comment is None and self.rated_at is not None and now - self.rated_at <= COMMENT_OPEN


@dataclass(frozen=True, slots=True)
class RatedCase:
    """One rating as the reports count it: the case's department, the score and when it was given."""

    department: str | None
    score: int
    rated_at: datetime


def typed_score(text: str) -> int | None:
    """A score typed as a bare number 1-5 (``4``, ``4.``, `` 4 ``); None for anything else."""
    words = text.strip().rstrip(".!").strip()
    return int(words) if len(words) == 1 and words.isdigit() and int(words) in SCORES else None


def rating_choice(reference: str, score: int) -> str:
    """The menu-choice key of the button that gives ``score`` to case ``reference``."""
    return f"{RATE_PREFIX}{reference}:{score}"


def parse_rating_choice(choice: str) -> tuple[str, int] | None:
    """(reference, score) from a rating button's key; None when it is not one."""
    if not choice.startswith(RATE_PREFIX):
        return None
    reference, _, score = choice.removeprefix(RATE_PREFIX).rpartition(":")
    parsed = typed_score(score)
    return (reference, parsed) if reference and parsed is not None else None
