"""A case whose thread root failed for good: it goes to the fallback department, or stays open and is said to.

Without this the citizen was told a department has the case while no thread exists,
and every later post failed as "the case's thread was never created".
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot import texts
from bot.model import CaseId, CaseStatus, Direction, ReplyKind
from bot.relay.casework import BRIDGE, Casework

log = logging.getLogger(__name__)


async def rehome(work: Casework, case_id: CaseId, reason: str) -> None:
    """The root of ``case_id`` failed for good (``reason``): open it in the fallback, or keep it open and say so."""
    case = await work.tx.case(case_id)
    if case is None or case.department is None or case.status is CaseStatus.CLOSED or case.thread is not None:
        return
    failed = work.directory[case.department]
    # Posts queued behind the root can never go out: the transcript in the new root carries their words.
    await work.tx.drop_pending_posts(case.id, reason=f"the thread root failed: {reason}")
    await work.tx.add_message(
        case_id=case.id,
        direction=Direction.SYSTEM,
        author=BRIDGE,
        text=texts.STRANDED_RECORD.format(department=failed.name, reason=reason),
    )
    fallback = work.directory.get(work.directory.fallback)
    if fallback is None or fallback.key == failed.key:
        log.warning(
            "case %s has no department thread: its root failed in %s and the fallback (%s); it stays open",
            case.reference,
            failed.key,
            reason,
        )
        await work.tell(case.chat, case, ReplyKind.SYSTEM, texts.STRANDED_KEPT.format(reference=case.reference))
        return
    case = await work.tx.save_case(replace(case, department=fallback.key, claimed_by=None))
    citizen = await work.citizen_of(case)
    history = [m for m in await work.tx.messages(case.id) if m.direction in {Direction.CITIZEN, Direction.STAFF}]
    transcript = "\n".join(f"{m.author}: {m.text}" for m in history)
    root_text = f"{texts.STRANDED_IN.format(department=failed.name, reason=reason)}\n{transcript}"
    await work.open_root(case, citizen=citizen, department=fallback, text=root_text)
    reply = texts.STRANDED_REROUTED.format(reference=case.reference, department=fallback.name)
    await work.tell(case.chat, case, ReplyKind.SYSTEM, reply)
