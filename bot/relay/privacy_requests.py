"""Citizens' privacy requests inside the relay's transaction: ``mydata`` (a copy of their data) and ``forget``.

``forget`` erases closed (and still pending) cases at once; an open case is put to staff in its
thread, who answer ``!erase`` or ``!keep REASON`` (the public-task exemption, told to the citizen).
"""

from __future__ import annotations

import json

from bot import texts
from bot.consultations.privacy import export_engagement, forget_engagement
from bot.events import CitizenCommand, StaffAction, StaffActionKind
from bot.model import WEB, Case, CaseStatus, CitizenReply, Direction, FileData, ReplyKind, Side
from bot.privacy import audit, cases_of_citizen, deidentify_citizens, erase_case, export
from bot.relay.casework import Casework, citizen_lane

CITIZEN_ACTOR = "citizen"


async def send_my_data(work: Casework, event: CitizenCommand, active: Case | None) -> None:
    """Queue the citizen's data, as a JSON file, to their chat; the access is audited."""
    tx = work.tx
    voice = await work.voice_of_sender(event.sender, event.chat, active)
    mine = await cases_of_citizen(tx, event.sender.platform, event.sender.user_id)
    citizen = await tx.find_citizen(event.sender)
    engagement = await export_engagement(tx, [citizen.id]) if citizen is not None else {}
    if not mine and not any(engagement.values()):
        await work.tell(event.chat, active, ReplyKind.SYSTEM, voice.say(texts.MYDATA_NONE))
        return
    data = await export(tx, mine, include_notes=False) if mine else {"citizens": [], "cases": [], **engagement}
    data["exported_at"] = tx.now.isoformat()
    content = json.dumps(data, indent=2, ensure_ascii=False)
    for case in mine:
        await audit(tx, actor=CITIZEN_ACTOR, action="export", reference=case.reference, via="mydata")
    reference = active.reference if active else ""
    if event.chat.platform == WEB:  # the web chat carries no files: the copy is the message itself
        body = CitizenReply(ReplyKind.SYSTEM, f"{voice.say(texts.MYDATA_SENT)}\n\n{content}", reference)
    else:
        name = f"my-data-{tx.now:%Y-%m-%d}.json"
        attachment = await tx.save_file(FileData(name, "application/json", content.encode()))
        body = CitizenReply(ReplyKind.SYSTEM, voice.say(texts.MYDATA_SENT), reference, attachments=(attachment,))
    await tx.enqueue(
        case_id=active.id if active else None,
        side=Side.CITIZEN,
        lane=citizen_lane(event.chat),
        target=event.chat,
        body=body,
    )


async def forget(work: Casework, event: CitizenCommand) -> None:
    """Erase the citizen's closed and pending cases now; put an open one to its department."""
    tx = work.tx
    voice = await work.voice_of_sender(event.sender, event.chat, None)
    mine = await cases_of_citizen(tx, event.sender.platform, event.sender.user_id)
    citizen = await tx.find_citizen(event.sender)
    # Consent and answers go at once, whatever staff decide about open cases.
    unsubscribed = await forget_engagement(tx, [citizen.id]) if citizen is not None else 0
    if not mine:
        if citizen is not None:
            await deidentify_citizens(tx, [citizen.id], created_before=tx.now)
        said = texts.UNSUBSCRIBED_ALL if unsubscribed else texts.MYDATA_NONE
        await work.tell(event.chat, None, ReplyKind.SYSTEM, voice.say(said))
        return
    erased = 0
    for case in mine:
        if case.status is CaseStatus.OPEN:
            await audit(tx, actor=CITIZEN_ACTOR, action="erase_requested", reference=case.reference)
            await work.system(case, texts.FORGET_REQUEST_STAFF)
            await work.tell(event.chat, case, ReplyKind.SYSTEM, voice.say(texts.FORGET_ASKED, reference=case.reference))
            continue
        await erase_case(tx, case)
        await audit(tx, actor=CITIZEN_ACTOR, action="erase", reference=case.reference)
        erased += 1
    if erased:
        await deidentify_citizens(tx, sorted({case.citizen_id for case in mine}), created_before=tx.now)
        await work.tell(event.chat, None, ReplyKind.SYSTEM, voice.count(texts.FORGET_DONE, erased))


async def _asked(work: Casework, case: Case) -> bool:
    return any(
        m.direction is Direction.SYSTEM and m.text == texts.FORGET_REQUEST_STAFF
        for m in await work.tx.messages(case.id)
    )


async def decide(work: Casework, case: Case, event: StaffAction) -> None:
    """Staff answered a citizen's erasure request: erase the case now, or keep it with a reason."""
    if not await _asked(work, case):
        await work.system(case, texts.FORGET_NOT_ASKED)
        return
    if event.reason is None and event.action is StaffActionKind.KEEP:
        await work.system(case, texts.FORGET_KEEP_NEEDS_REASON)
        return
    chat = case.chat
    voice = await work.voice_of(case)  # before erasure de-identifies the citizen's row
    if event.action is StaffActionKind.KEEP:
        reason = event.reason or ""
        await work.system(case, texts.FORGET_KEPT_STAFF.format(actor=event.actor_name, reason=reason))
        kept = voice.say(texts.FORGET_KEPT, reference=case.reference, reason=reason)
        await work.tell(chat, case, ReplyKind.SYSTEM, kept)
        return
    await erase_case(work.tx, case)
    await deidentify_citizens(work.tx, [case.citizen_id], created_before=work.tx.now)
    erased = await work.tx.case(case.id)
    if erased is not None:  # the thread says who erased it; the line holds no personal data
        await work.system(erased, texts.FORGET_ERASED_STAFF.format(actor=event.actor_name))
    await work.tell(chat, None, ReplyKind.SYSTEM, voice.say(texts.FORGET_ERASED, reference=case.reference))
