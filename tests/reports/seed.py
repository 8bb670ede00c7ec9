"""A database seeded with known cases, replies, closes, targets and labels, for the report's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from bot.reports.model import Period
from bot.storage.store import Store, Tx
from bot.storage.tables import audit_log, cases, citizens, learned_examples, messages

NAMES = {"roads": "Roads & Transport", "waste": "Waste & Recycling", "housing": "Housing"}
#: Every roads case opens at this moment; its figures are hours after it.
OPENED = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 1, 1), date(2026, 1, 8))


def hours(n: float) -> datetime:
    """``n`` hours after the roads cases opened."""
    return OPENED + timedelta(hours=n)


class Seeder:
    """Writes rows the way the relay leaves them, with the times a test chooses."""

    def __init__(self, tx: Tx) -> None:
        self._c = tx.connection
        self._n = 0

    async def case(
        self,
        department: str | None,
        *,
        opened: datetime = OPENED,
        platform: str = "telegram",
        status: str = "open",
        updated: datetime | None = None,
        due: datetime | None = None,
        citizen_language: str | None = "en",
        chosen: str | None = None,
        case_language: str | None = None,
    ) -> tuple[int, str]:
        """A citizen and one case of theirs; returns the case's id and reference."""
        self._n += 1
        citizen = await self._c.execute(
            insert(citizens).values(
                platform=platform,
                user_id=f"u{self._n}",
                display_name="Citizen",
                language=citizen_language,
                chosen_language=chosen,
                created_at=opened,
            )
        )
        reference = f"CB-SEED{self._n:02d}"
        result = await self._c.execute(
            insert(cases).values(
                reference=reference,
                citizen_id=citizen.inserted_primary_key[0],  # type: ignore[index]  # one-column key
                chat_platform=platform,
                chat_id=f"u{self._n}",
                department=department,
                status=status,
                created_at=opened,
                updated_at=updated or opened,
                first_answer_due_at=due,
                language=case_language,
            )
        )
        return int(result.inserted_primary_key[0]), reference  # type: ignore[index]  # one-column key

    async def message(self, case_id: int, direction: str, at: datetime) -> None:
        """A message of ``direction`` (citizen, staff, note, system) on the case at ``at``."""
        await self._c.execute(
            insert(messages).values(
                case_id=case_id, direction=direction, author="x", text="…", attachments=[], created_at=at
            )
        )

    async def audit(self, reference: str, action: str, at: datetime) -> None:
        """An audit entry of a staff action on the case."""
        await self._c.execute(
            insert(audit_log).values(at=at, actor="grace", action=action, reference=reference, details={})
        )

    async def label(self, case_id: int, department: str, source: str) -> None:
        """A learned label: a transfer or a menu choice."""
        await self._c.execute(
            insert(learned_examples).values(case_id=case_id, department=department, source=source, labelled_at=OPENED)
        )


async def seed(store: Store) -> None:
    """Five roads cases, one waste case, one unrouted, two outside the period (see each line)."""

    async def work(tx: Tx) -> None:
        s = Seeder(tx)
        due = hours(3.5)
        # First staff answers after 1, 2, 3, 4 and 10 hours: median 3, p90 7.6. Targets at 3.5 h: 3 of 4 met.
        r1, ref1 = await s.case("roads", status="closed", due=due, chosen="fr", case_language="de")
        r2, ref2 = await s.case("roads", status="closed", due=due, case_language="pt-BR")
        r3, _ = await s.case("roads", status="closed", due=due, updated=hours(30))
        r4, _ = await s.case("roads", platform="web", due=due)
        r5, _ = await s.case("roads", platform="discord")
        for case_id, answered in ((r1, 1), (r2, 2), (r3, 3), (r4, 4), (r5, 10)):
            await s.message(case_id, "citizen", OPENED)
            await s.message(case_id, "staff", hours(answered))
        await s.message(r1, "staff", hours(50))  # a later reply: the first one counts
        await s.message(r2, "note", hours(0.5))  # a note is no answer
        # Resolved after 10, 20 (closed at 5, reopened, closed again) and 30 hours (the citizen's "new": no audit).
        await s.audit(ref1, "close", hours(10))
        await s.audit(ref2, "close", hours(5))
        await s.audit(ref2, "reopen", hours(6))
        await s.audit(ref2, "close", hours(20))
        await s.label(r4, "roads", "transfer")
        await s.label(r5, "roads", "menu")
        # Waste: unanswered, its target long passed (the clock says 2026-01-05): a missed target.
        await s.case(
            "waste", opened=datetime(2026, 1, 3, 9, 0, tzinfo=UTC), due=datetime(2026, 1, 3, 10, 0, tzinfo=UTC)
        )
        # Waiting for the menu: no department yet; its target not known.
        await s.case(None, opened=datetime(2026, 1, 4, 9, 0, tzinfo=UTC), platform="web", citizen_language=None)
        # Outside [since, until): the evening before, and the first moment of until.
        await s.case("roads", opened=datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
        await s.case("roads", opened=datetime(2026, 1, 8, 0, 0, tzinfo=UTC))

    await store.atomic(work)
