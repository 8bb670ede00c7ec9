"""Privacy: erasure, access (export) and the audit trail, each inside one transaction (retention: ``bot.purge``).

Every column that holds personal data is named once, in the ``*_PERSONAL`` mappings below, with what
it becomes when erased: purge and erasure both go through them, so a column added elsewhere (a
translation, a learned example) is covered by adding it there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, not_, select, update

from bot.consultations.privacy import export_engagement, forget_engagement
from bot.erased_in_flight import ERASED, in_flight, look_again_later
from bot.model import (
    WEB,
    Address,
    Case,
    CaseCard,
    CaseStatus,
    Citizen,
    CitizenId,
    DeliveryState,
    DepartmentKey,
    Platform,
    PostKind,
    Side,
    ThreadPost,
)
from bot.sessions import SessionKind
from bot.storage.cases import case_from_row
from bot.storage.codec import body_from_json, body_to_json
from bot.storage.outbox import bulk_lane
from bot.storage.store import Store, Tx
from bot.storage.tables import (
    audit_log,
    blobs,
    case_ratings,
    cases,
    citizens,
    deliveries,
    messages,
    subscriptions,
    web_sessions,
)

#: Records one audit entry in its own transaction: (actor, action, case reference or None). The desk uses it.
AuditRecorder = Callable[[str, str, str | None], Awaitable[None]]

#: Who the audit trail names for what the bridge itself does (the daily purge).
SYSTEM_ACTOR = "system"

#: Every personal column of ``messages`` and its erased value. Add a column here when you add one.
MESSAGE_PERSONAL: Mapping[str, object] = MappingProxyType(
    {"text": ERASED, "author": ERASED, "attachments": [], "translation": None}
)
#: Personal columns of ``cases`` with a fixed erased value (``chat_id`` is replaced per case, see ``erase_case``).
CASE_PERSONAL: Mapping[str, object] = MappingProxyType({"claimed_by": None})
#: Personal columns of ``case_ratings``: the citizen's comment goes; the score, department and dates stay (counted).
RATING_PERSONAL: Mapping[str, object] = MappingProxyType({"comment": None})
#: Personal columns of ``citizens`` with a fixed erased value (``user_id`` is replaced per row).
CITIZEN_PERSONAL: Mapping[str, object] = MappingProxyType(
    {"display_name": ERASED, "language": None, "chosen_language": None, "language_notice": None}
)


@dataclass(frozen=True, slots=True)
class Erasure:
    """What one erasure did: cases erased and thread posts queued for replacement."""

    references: tuple[str, ...] = ()
    thread_updates: int = 0
    citizens: int = 0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail."""

    at: datetime
    actor: str
    action: str
    reference: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


# --- the audit trail ---------------------------------------------------------------------------


async def audit(tx: Tx, *, actor: str, action: str, reference: str | None = None, **details: object) -> None:
    """Append one entry, in the caller's transaction (so it is written once, with the action).

    ``details`` are ids, counts and names of departments: never message text or citizen names.
    """
    await tx.connection.execute(
        insert(audit_log).values(at=tx.now, actor=actor, action=action, reference=reference, details=dict(details))
    )


def recorder(store: Store) -> AuditRecorder:
    """An ``AuditRecorder`` writing to ``store`` (for what happens outside the relay: desk sign-ins and views)."""

    async def record(actor: str, action: str, reference: str | None) -> None:
        async def work(tx: Tx) -> None:
            await audit(tx, actor=actor, action=action, reference=reference)

        await store.atomic(work)

    return record


async def audit_entries(
    tx: Tx, *, reference: str | None = None, actor: str | None = None, since: datetime | None = None
) -> list[AuditEntry]:
    """The audit trail, oldest first, filtered."""
    query = select(audit_log).order_by(audit_log.c.at, audit_log.c.id)
    if reference is not None:
        query = query.where(audit_log.c.reference == reference)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    return [
        AuditEntry(row.at, row.actor, row.action, row.reference, dict(row.details))
        for row in await tx.connection.execute(query)
    ]


# --- erasure -----------------------------------------------------------------------------------


def blob_ids(attachments: object) -> set[int]:
    """The blob ids an attachments list (as stored in JSON) refers to."""
    items = attachments if isinstance(attachments, list) else []
    return {int(a["blob_id"]) for a in items if isinstance(a, dict) and a.get("blob_id") is not None}


def _erased_card(card: CaseCard) -> CaseCard:
    return CaseCard(
        reference=card.reference,
        department_key=card.department_key,
        department_name=card.department_name,
        platform=card.platform,
        citizen_name=ERASED,
        language=None,
        status=card.status,
        claimed_by=None,
    )


def _erased_body(body: dict[str, Any]) -> dict[str, Any]:
    """A delivery body with its text, names and files gone."""
    value = body_from_json(body)
    if isinstance(value, ThreadPost):
        value = ThreadPost(value.kind, _erased_card(value.card), ERASED if value.text else "", ERASED, (), value.about)
        return body_to_json(value)
    erased = body_to_json(value)
    erased.update(text=ERASED, attachments=[])
    return erased


async def erase_case(tx: Tx, case: Case, *, thread_posts: bool = True) -> int:
    """Remove a case's personal data from every table; with ``thread_posts``, queue "[erased]" over its thread posts.

    Returns the number of thread posts queued. The case keeps its reference, department, dates
    and counts, and is closed. Pending deliveries to the citizen are dropped, pending posts to
    the department go out erased, so nothing erased is sent afterwards.
    """
    c = tx.connection
    erased_blobs: set[int] = set()
    for row in await c.execute(select(messages.c.attachments).where(messages.c.case_id == case.id)):
        erased_blobs |= blob_ids(row.attachments)
    updates: list[tuple[str, str, str, str]] = []
    under_way = False
    for row in await c.execute(select(deliveries).where(deliveries.c.case_id == case.id).order_by(deliveries.c.id)):
        body = dict(row.body)
        erased_blobs |= blob_ids(body.get("attachments"))
        kind = body.get("kind")
        if (
            row.side == Side.DEPARTMENT.value
            and row.state == DeliveryState.SENT.value
            and row.sent_id
            and kind in {PostKind.ROOT.value, PostKind.CITIZEN.value}
        ):
            card = body.get("card") or {}
            updates.append((row.target_platform, row.target_chat, str(row.sent_id), str(card.get("department_name"))))
        if row.state == DeliveryState.PENDING.value and row.side == Side.DEPARTMENT.value:
            await c.execute(update(deliveries).where(deliveries.c.id == row.id).values(body=_erased_body(body)))
            under_way = under_way or in_flight(row, tx.now)
        else:
            await c.execute(delete(deliveries).where(deliveries.c.id == row.id))
    # Broadcasts to the citizen's chat (no case of their own) name the chat: never sent now, nor kept.
    await c.execute(delete(deliveries).where(deliveries.c.lane == bulk_lane(case.chat)))
    await c.execute(update(messages).where(messages.c.case_id == case.id).values(**MESSAGE_PERSONAL))
    await c.execute(update(case_ratings).where(case_ratings.c.case_id == case.id).values(**RATING_PERSONAL))
    if erased_blobs:
        await c.execute(delete(blobs).where(blobs.c.id.in_(erased_blobs)))
    await c.execute(
        update(cases)
        .where(cases.c.id == case.id)
        .values(
            chat_id=f"erased-{case.id}",
            status=CaseStatus.CLOSED.value,
            erased_at=func.coalesce(cases.c.erased_at, tx.now),
            **CASE_PERSONAL,
        )
    )
    if not thread_posts:
        return 0
    if under_way:  # a post a worker holds goes out as it was: edited once it is out
        await look_again_later(tx)
    for platform, chat, sent_id, department_name in updates:
        card = CaseCard(
            reference=case.reference,
            department_key=case.department or DepartmentKey(""),
            department_name=department_name,
            platform=case.chat.platform,
            citizen_name=ERASED,
            language=None,
            status=CaseStatus.CLOSED,
            claimed_by=None,
        )
        await tx.enqueue(
            case_id=case.id,
            side=Side.DEPARTMENT,
            lane=f"case:{case.id}",
            target=Address(Platform(platform), chat),
            body=ThreadPost(PostKind.ERASE, card, ERASED, SYSTEM_ACTOR, (), sent_id),
        )
    return len(updates)


async def deidentify_citizens(tx: Tx, ids: Sequence[CitizenId] | None = None, *, created_before: datetime) -> int:
    """Replace name and platform id of citizens none of whose cases still holds personal data."""
    live_case = exists().where(cases.c.citizen_id == citizens.c.id, cases.c.erased_at.is_(None))
    subscribed = exists().where(subscriptions.c.citizen_id == citizens.c.id)  # consent stands: still needed
    where = and_(
        not_(live_case), not_(subscribed), citizens.c.display_name != ERASED, citizens.c.created_at <= created_before
    )
    if ids is not None:
        where = and_(where, citizens.c.id.in_(list(ids)))
    found = list(
        await tx.connection.execute(select(citizens.c.id, citizens.c.platform, citizens.c.user_id).where(where))
    )
    for citizen_id, platform, user_id in found:
        # Their words kept elsewhere go too: events set aside, and (web chat) the sessions that open their chat.
        await tx.erase_set_aside_of(Platform(platform), user_id)
        if platform == WEB:
            await tx.connection.execute(
                delete(web_sessions).where(
                    web_sessions.c.kind == SessionKind.CHAT.value, web_sessions.c.subject == user_id
                )
            )
        await tx.connection.execute(
            update(citizens)
            .where(citizens.c.id == citizen_id)
            .values(user_id=f"erased-{citizen_id}", **CITIZEN_PERSONAL)
        )
    return len(found)


async def cases_of_citizen(tx: Tx, platform: str, user_id: str) -> list[Case]:
    """Every case of the citizen with this platform account, oldest first."""
    query = (
        select(cases)
        .join(citizens, citizens.c.id == cases.c.citizen_id)
        .where(citizens.c.platform == platform, citizens.c.user_id == user_id)
        .order_by(cases.c.id)
    )
    return [case_from_row(row) for row in await tx.connection.execute(query)]


async def citizens_of_account(tx: Tx, platform: str, user_id: str) -> list[CitizenId]:
    """The citizen records of this platform account (one, or none), with or without cases."""
    query = select(citizens.c.id).where(citizens.c.platform == platform, citizens.c.user_id == user_id)
    return [CitizenId(int(row.id)) for row in await tx.connection.execute(query.order_by(citizens.c.id))]


async def erase(tx: Tx, targets: Sequence[Case], *, actor: str, citizen_ids: Sequence[CitizenId] = ()) -> Erasure:
    """Erase these cases (and de-identify their citizens when nothing of theirs is left), with one audit entry each.

    ``citizen_ids`` are citizens to forget whether or not they have a case (a subscriber who never wrote in):
    their consent and answers go, and an audit entry names each by its internal id.
    """
    posts = 0
    for case in targets:
        queued = await erase_case(tx, case)
        posts += queued
        await audit(tx, actor=actor, action="erase", reference=case.reference, thread_posts=queued)
    with_cases = {case.citizen_id for case in targets}
    for citizen_id in sorted(set(citizen_ids) - with_cases):
        await audit(tx, actor=actor, action="erase", citizen=int(citizen_id))
    ids = sorted(with_cases | set(citizen_ids))
    await forget_engagement(tx, ids)
    far_future = tx.now + timedelta(days=1)
    people = await deidentify_citizens(tx, ids, created_before=far_future) if ids else 0
    return Erasure(tuple(case.reference for case in targets), posts, people)


# --- access ------------------------------------------------------------------------------------


async def export(
    tx: Tx, targets: Sequence[Case], *, include_notes: bool = True, citizen_ids: Sequence[CitizenId] = ()
) -> dict[str, Any]:
    """The citizen's data as a JSON-ready dict: who they are, their cases and messages with dates.

    ``citizen_ids`` are exported too when they have no case (their consent records and answers).
    """
    people: dict[int, dict[str, Any]] = {}
    exported_cases = []
    for citizen_id in citizen_ids:
        found = await tx.citizen_by_id(citizen_id)
        if found is not None:
            people[found.id] = _person(found)
    for case in targets:
        citizen = await tx.citizen_by_id(case.citizen_id)
        if citizen is not None and citizen.id not in people:
            people[citizen.id] = _person(citizen)
        lines = [
            {
                "at": message.created_at.isoformat(),
                "direction": message.direction.value,
                "author": message.author,
                "text": message.text,
                "attachments": [{"name": a.name, "type": a.mime_type, "size": a.size} for a in message.attachments],
            }
            for message in await tx.messages(case.id)
            if include_notes or message.direction.value != "note"
        ]
        rating = await tx.rating_of(case.id)
        exported_cases.append(
            {
                "reference": case.reference,
                "department": case.department,
                "status": case.status.value,
                "opened_at": case.created_at.isoformat(),
                "last_activity_at": case.updated_at.isoformat(),
                "messages": lines,
                "rating": None
                if rating is None or rating.score is None
                else {
                    "score": rating.score,
                    "rated_at": rating.rated_at.isoformat() if rating.rated_at else None,
                    "comment": rating.comment,
                },
            }
        )
    engagement = await export_engagement(tx, sorted({CitizenId(key) for key in people}))
    return {"citizens": list(people.values()), "cases": exported_cases, **engagement}


def _person(citizen: Citizen) -> dict[str, Any]:
    return {
        "platform": citizen.platform,
        "account_id": citizen.user_id,
        "name": citizen.display_name,
        "language": citizen.language,
    }
