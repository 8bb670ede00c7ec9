"""The answer clock: when an answer is due, the reminder at 80% of the time, and the breach that escalates.

An answer is due whenever the citizen spoke last on an open case of a department with targets: the first
within ``first_response`` business time, later ones within ``next_response``. Staff answering (or the case
closing) stops the clock; while the case waits for the citizen none is due. Each due time has two due jobs,
a reminder and a breach, taken once across every process (``bot.storage.jobs``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot import texts
from bot.departments import Department
from bot.model import Case, CaseStatus, Direction, PostKind, Side, ThreadPost
from bot.relay.casework import BRIDGE, Casework, card
from bot.service_levels import target_for
from bot.storage.jobs import DueJob


async def citizen_wrote(work: Casework, case: Case) -> None:
    """The citizen wrote on an open case with no answer due: the clock starts again (``next_response``)."""
    if case.answer_due_at is not None or case.status is not CaseStatus.OPEN or case.department is None:
        return
    department = work.directory.get(case.department)
    if department is None or (department.first_response is None and department.next_response is None):
        return
    answered = any(m.direction is Direction.STAFF for m in await work.tx.messages(case.id))
    target = target_for(department, answered_before=answered)
    if target is None:
        return
    case = await work.start_answer_clock(case, department, target)
    if case.answer_due_at is not None:
        await work.update_root(case)


async def staff_answered(work: Casework, case: Case) -> Case:
    """Staff answered the citizen: the case now waits for them, and no answer is due."""
    had_due = case.answer_due_at is not None or case.overdue
    case = await work.stop_answer_clock(case)
    if had_due:
        await work.update_root(case)
    return case


async def _still_due(work: Casework, job: DueJob) -> tuple[Case, Department] | None:
    """The job's case, locked, if its answer is still due; None when answered, closed or gone meanwhile."""
    found = await work.tx.case(job.case_id) if job.case_id is not None else None
    if found is None or found.status is not CaseStatus.OPEN:
        return None
    case = await work.tx.touch_active_case(found.chat)  # locked: a staff reply cannot act on it at the same time
    if case is None or case.id != found.id or case.answer_due_at is None or case.department is None:
        return None
    department = work.directory.get(case.department)
    return None if department is None else (case, department)


def _when(department: Department, due: datetime) -> str:
    return due.astimezone(department.hours.zone).strftime("%a %d %b %Y %H:%M %Z")


async def remind(work: Casework, job: DueJob) -> None:
    """80% of the time has passed: a line in the case's thread (and the desk's record)."""
    found = await _still_due(work, job)
    if found is None or found[0].overdue:
        return
    case, department = found
    assert case.answer_due_at is not None  # noqa: S101  # checked by _still_due
    await work.system(case, texts.ANSWER_REMINDER.format(due=_when(department, case.answer_due_at)))


async def breach(work: Casework, job: DueJob) -> None:
    """The answer is late: the case is flagged overdue, its thread says so, and the escalation is told."""
    found = await _still_due(work, job)
    if found is None or found[0].overdue:
        return
    case, department = found
    assert case.answer_due_at is not None  # noqa: S101  # checked by _still_due
    due = _when(department, case.answer_due_at)
    case = await work.tx.save_case(replace(case, overdue=True))
    await work.update_root(case)
    await work.system(case, texts.ANSWER_OVERDUE.format(due=due))
    escalation = department.escalation
    if escalation is None:
        return
    line = texts.ESCALATED.format(reference=case.reference, department=department.name, due=due)
    if escalation.channel is None:  # a mention of the group in the case's own thread
        await work.post(case, PostKind.ESCALATION, text=line, author=BRIDGE)
        return
    citizen = await work.citizen_of(case)
    await work.tx.enqueue(
        case_id=case.id,
        side=Side.DEPARTMENT,
        lane=f"escalation:{escalation.channel.chat}",
        target=escalation.channel,
        body=ThreadPost(PostKind.ESCALATION, card(case, citizen, department), line, BRIDGE),
    )
