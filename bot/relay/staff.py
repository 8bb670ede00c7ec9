"""The staff side: replies and internal notes in a case's thread, actions on the case, edits after sending."""

from __future__ import annotations

from dataclasses import replace

from bot import texts
from bot.as_typed import without_as_typed_mark
from bot.departments import Department, Directory
from bot.events import StaffAction, StaffActionKind, StaffEdit, StaffMessage
from bot.model import Attachment, Case, CaseStatus, CitizenReply, Direction, Message, PostKind, ReplyKind, Side
from bot.notes import is_internal_note
from bot.privacy import audit
from bot.relay import answer_clock, engagement, privacy_requests, ratings
from bot.relay.casework import BRIDGE, Casework, citizen_lane
from bot.saved_answers import AnswerBook, SavedAnswers
from bot.storage.learned import LabelSource


class StaffSide:
    """Handles what staff do in a case's thread, inside the transaction the relay opened for it."""

    def __init__(self, *, directory: Directory, answers: AnswerBook | None = None) -> None:
        self._directory = directory
        self._answers = answers or SavedAnswers()

    async def handle(
        self, work: Casework, event: StaffMessage | StaffAction | StaffEdit, attachments: tuple[Attachment, ...]
    ) -> None:
        """Store one staff event and queue what it causes."""
        match event:
            case StaffMessage():
                await self._message(work, event, attachments)
            case StaffAction():
                await self._action(work, event)
            case StaffEdit():
                await self._edit(work, event)

    async def _message(self, work: Casework, event: StaffMessage, attachments: tuple[Attachment, ...]) -> None:
        tx = work.tx
        case = await tx.touch_case_by_thread(event.thread)
        if case is None or case.department is None:
            return
        department = self._directory[case.department]
        text = event.text.strip()
        note = is_internal_note(text)
        message = await tx.add_message(
            case_id=case.id,
            direction=Direction.NOTE if note else Direction.STAFF,
            author=event.author_name,
            text=text,
            attachments=attachments,
            source=event.thread,
            source_id=event.source_id,
        )
        await audit(work.tx, actor=event.author_name, action="note" if note else "reply", reference=case.reference)
        if note:  # internal: stored for the desk and the record, never sent to the citizen
            return
        await self._reply(work, case, department, event.author_name, message)

    async def _reply(self, work: Casework, case: Case, department: Department, author: str, message: Message) -> None:
        """Queue a stored staff reply to the citizen, signed with the department (and the officer, if it says so)."""
        tx = work.tx
        text, attachments = message.text, message.attachments
        signature = department.name
        if department.sign_with_officer_name and author:
            signature = f"{author.split(maxsplit=1)[0]}, {department.name}"
        # The stored message keeps a leading ``!asis`` (the delivery path reads it: don't translate); the citizen
        # never sees it.
        reply = without_as_typed_mark(text)
        body = CitizenReply(ReplyKind.STAFF, reply, case.reference, signature=signature, attachments=attachments)
        await tx.enqueue(
            case_id=case.id,
            side=Side.CITIZEN,
            lane=citizen_lane(case.chat),
            target=case.chat,
            body=body,
            message_id=message.id,
        )
        await answer_clock.staff_answered(work, case)

    async def _action(self, work: Casework, event: StaffAction) -> None:
        case = await work.tx.case_by_thread(event.thread)
        if case is None or case.department is None:
            return
        department = self._directory[case.department]
        details = {"to": event.department} if event.department else {}
        await audit(work.tx, actor=event.actor_name, action=event.action.value, reference=case.reference, **details)
        match event.action:
            case StaffActionKind.CLOSE:
                await self._close(work, case, department, event.actor_name)
            case StaffActionKind.REOPEN:
                await self._reopen(work, case, department, event.actor_name)
            case StaffActionKind.TRANSFER:
                await self._transfer(work, case, department, event)
            case StaffActionKind.CLAIM:
                await self._claim(work, case, department, event.actor_name)
            case StaffActionKind.ERASE | StaffActionKind.KEEP:
                await privacy_requests.decide(work, case, event)
            case StaffActionKind.ANSWER:
                await self._answer(work, case, department, event)

    async def _answer(self, work: Casework, case: Case, department: Department, event: StaffAction) -> None:
        """Send a saved answer in the citizen's language (else the office's); an unknown key lists the known ones."""
        key = (event.answer or "").strip()
        answer = self._answers.find(key, department.key)
        if answer is None:
            known = ", ".join(a.key for a in self._answers.for_department(department.key)) or "none yet"
            await work.system(case, texts.ANSWER_UNKNOWN.format(key=key, known=known))
            return
        citizen = await work.citizen_of(case)
        voice = await work.voice(citizen, case, chat=case.chat)
        language, text = answer.render(
            voice.language,
            self._answers.office_language,
            reference=case.reference,
            citizen_name=citizen.display_name,
            department=voice.department(department),
        )
        message = await work.tx.add_message(
            case_id=case.id, direction=Direction.STAFF, author=event.actor_name, text=text
        )
        line = texts.ANSWER_SENT.format(key=answer.key, actor=event.actor_name, language=language)
        await work.post(case, PostKind.SYSTEM, text=f"{line}\n{text}", author=BRIDGE)
        await self._reply(work, case, department, event.actor_name, message)

    async def _close(self, work: Casework, case: Case, department: Department, actor: str) -> None:
        if case.status is CaseStatus.CLOSED:
            await work.system(case, texts.ALREADY.format(status="closed"))
            return
        case = await work.close(case, texts.CLOSED_STAFF.format(actor=actor))
        voice = await work.voice_of(case)
        reply = voice.say(texts.CLOSED_CITIZEN, reference=case.reference, department=voice.department(department))
        await engagement.tell_closed(work, case, department, reply)
        await ratings.ask(work, case, department)

    async def _reopen(self, work: Casework, case: Case, department: Department, actor: str) -> None:
        if case.status is not CaseStatus.CLOSED:
            await work.system(case, texts.ALREADY.format(status=case.status.value))
            return
        other = await work.tx.active_case(case.chat)
        if other is not None:
            await work.system(case, texts.REOPEN_REFUSED.format(reference=other.reference))
            return
        case = await work.tx.save_case(replace(case, status=CaseStatus.OPEN))
        await work.update_root(case)
        await work.system(case, texts.REOPENED_STAFF.format(actor=actor))
        voice = await work.voice_of(case)
        reply = voice.say(texts.REOPENED_CITIZEN, reference=case.reference, department=voice.department(department))
        await work.tell(case.chat, case, ReplyKind.SYSTEM, reply)

    async def _claim(self, work: Casework, case: Case, department: Department, actor: str) -> None:
        case = await work.tx.save_case(replace(case, claimed_by=actor))
        await work.update_root(case)
        await work.system(case, texts.CLAIMED_STAFF.format(actor=actor))
        voice = await work.voice_of(case)
        where = {"department": voice.department(department), "reference": case.reference}
        if department.sign_with_officer_name and actor.strip():  # the first name only, as replies are signed
            reply = voice.say(texts.CLAIMED_CITIZEN, officer=actor.split(maxsplit=1)[0], **where)
        else:
            reply = voice.say(texts.CLAIMED_CITIZEN_UNNAMED, **where)
        await work.tell(case.chat, case, ReplyKind.SYSTEM, reply)

    async def _transfer(self, work: Casework, case: Case, current: Department, event: StaffAction) -> None:
        target = self._directory.find(event.department or "")
        if target is None:
            known = ", ".join(d.key for d in self._directory.departments)
            await work.system(case, texts.TRANSFER_UNKNOWN.format(name=event.department or "", known=known))
            return
        if target.key == current.key:
            await work.system(case, texts.TRANSFER_SAME.format(department=current.name))
            return
        await work.system(case, texts.TRANSFERRED_STAFF.format(department=target.name, actor=event.actor_name))
        # The old root stops offering actions: its thread no longer leads to the case.
        await work.post(
            case, PostKind.ROOT_UPDATE, text=texts.TRANSFERRED_ROOT.format(department=target.name), author=BRIDGE
        )
        case = await work.tx.save_case(replace(case, department=target.key, claimed_by=None))
        await work.tx.label_case(case.id, target.key, LabelSource.TRANSFER)  # the router learns where it belonged
        citizen = await work.citizen_of(case)
        history = [m for m in await work.tx.messages(case.id) if m.direction in {Direction.CITIZEN, Direction.STAFF}]
        transcript = "\n".join(f"{m.author}: {m.text}" for m in history)
        root_text = f"{texts.TRANSFERRED_IN.format(department=current.name)}\n{transcript}"
        await work.open_root(case, citizen=citizen, department=target, text=root_text)
        voice = await work.voice(citizen, case, chat=case.chat)
        reply = voice.say(texts.TRANSFERRED_CITIZEN, reference=case.reference, department=voice.department(target))
        await work.tell(case.chat, case, ReplyKind.SYSTEM, reply)

    async def _edit(self, work: Casework, event: StaffEdit) -> None:
        message = await work.tx.message_by_source(event.thread.platform, event.source_id)
        if message is None or message.direction is not Direction.STAFF:
            return
        case = await work.tx.case(message.case_id)
        if case is not None:
            await work.system(case, texts.EDIT_NOT_RELAYED)
