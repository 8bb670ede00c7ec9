"""What both sides do to a case inside one transaction: open it, start and post into its thread, tell its citizen.

A ``Casework`` lives for one transaction attempt: it holds the ``Tx``, the
departments and the attempt's ``Effects``. Lanes keep order: everything said
to one citizen chat goes out in order, and so does everything posted for one
case on the department side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import texts
from bot.departments import Department, Directory
from bot.events import Sender
from bot.language import normalize_language
from bot.model import (
    Address,
    Attachment,
    Case,
    CaseCard,
    CaseStatus,
    Citizen,
    CitizenReply,
    Direction,
    Message,
    PostKind,
    ReplyKind,
    Side,
    ThreadPost,
)
from bot.ports import RouteDecision
from bot.relay.effects import Effects
from bot.service_levels import ANSWER_BREACH, ANSWER_REMINDER, promise, reminder_and_due
from bot.speech import Languages, Voice, spoken_language
from bot.storage.store import Tx

BRIDGE = "bridge"


@dataclass(frozen=True, slots=True)
class RoutingQuestion:
    """What the router is asked about a first message: its text, and the language the citizen gave."""

    text: str
    language: str | None


class RoutingNeededError(Exception):
    """A transaction needs a routing decision it was not given: it rolls back, and runs again with one.

    The router's sentence encoder takes milliseconds; asked outside the transaction (and off the
    event loop), it never holds the database's write slot, nor the other transactions waiting.
    """

    def __init__(self, question: RoutingQuestion) -> None:
        super().__init__(question.language)  # never the text: it may end up in a log
        self.question = question


def citizen_lane(chat: Address) -> str:
    """Everything said to one citizen chat goes out in order."""
    return f"chat:{chat.platform}:{chat.chat}"


def department_lane(case: Case) -> str:
    """Everything posted for one case on the department side goes out in order."""
    return f"case:{case.id}"


class Casework:
    """One transaction's work on cases; ``tx`` is there for the reads and writes each side does itself."""

    def __init__(
        self,
        tx: Tx,
        *,
        directory: Directory,
        effects: Effects,
        languages: Languages,
        routed: Mapping[RoutingQuestion, RouteDecision] | None = None,
    ) -> None:
        self.tx = tx
        self.directory = directory
        self.effects = effects
        self.languages = languages
        self._routed = routed or {}
        self._noticed: set[tuple[int, str]] = set()

    def decision(self, text: str, *, language: str | None) -> RouteDecision:
        """The router's decision on a first message, asked before this attempt (else ``RoutingNeededError``)."""
        question = RoutingQuestion(text, language)
        decision = self._routed.get(question)
        if decision is None:
            raise RoutingNeededError(question)
        return decision

    # --- the case's citizen ------------------------------------------------------------------

    async def citizen_of(self, case: Case) -> Citizen:
        """The citizen a case belongs to (their row is never deleted while the case exists)."""
        citizen = await self.tx.citizen_by_id(case.citizen_id)
        assert citizen is not None  # noqa: S101  # a case's citizen row is never deleted
        return citizen

    async def voice(
        self, citizen: Citizen | None, case: Case | None, *, chat: Address, locale: str | None = None
    ) -> Voice:
        """The voice to speak to this citizen in (``Languages.choose``).

        When their language is not offered, they are told so once, in theirs (if shipped), before what follows;
        the row remembers the language they were told about. Citizens with no row yet are told when it exists.
        """
        choice = self.languages.choose(citizen, case, locale=locale)
        wanted = normalize_language(choice.wanted)
        if choice.notice_in is not None and citizen is not None and wanted is not None:
            told = (int(citizen.id), wanted)
            if citizen.language_notice != wanted and told not in self._noticed:
                self._noticed.add(told)
                theirs = self.languages.voice(choice.notice_in)
                office = theirs.language_name(choice.language)
                await self.tell(chat, case, ReplyKind.SYSTEM, theirs.say(texts.LANGUAGE_NOT_OFFERED, language=office))
                await self.tx.save_citizen_language(replace(citizen, language_notice=wanted))
        return self.languages.voice(choice.language)

    async def voice_of_sender(self, sender: Sender, chat: Address, case: Case | None) -> Voice:
        """The voice for a citizen who may have no stored row yet (a command before their first case)."""
        return await self.voice(await self.tx.find_citizen(sender), case, chat=chat, locale=sender.language)

    async def voice_of(self, case: Case) -> Voice:
        """The voice to speak to a case's citizen in, from the stored citizen and case."""
        return await self.voice(await self.citizen_of(case), case, chat=case.chat)

    async def tell(self, chat: Address, case: Case | None, kind: ReplyKind, text: str) -> None:
        """Queue a message from the bridge to a citizen chat."""
        await self.tx.enqueue(
            case_id=case.id if case else None,
            side=Side.CITIZEN,
            lane=citizen_lane(chat),
            target=chat,
            body=CitizenReply(kind, text, case.reference if case else ""),
        )

    # --- the department thread ---------------------------------------------------------------

    async def start_thread(
        self,
        case: Case,
        *,
        citizen: Citizen,
        department: Department,
        messages: Sequence[Message],
        previous: Case | None,
        note: str = "",
    ) -> None:
        """Queue the thread root (with the first message and ``note`` for staff), later messages as replies, the ack."""
        self.effects.routed.append(department.key)
        case = await self.start_answer_clock(case, department, department.first_response, first=True)
        due = case.answer_due_at
        first, *rest = messages
        root_text = first.text
        if previous is not None:
            root_text = f"{root_text}\n\n{texts.ROOT_PREVIOUS.format(reference=previous.reference)}"
        if note:
            root_text = f"{root_text}\n\n{note}"
        await self.open_root(
            case, citizen=citizen, department=department, text=root_text, attachments=first.attachments, first=first
        )
        for message in rest:
            await self.post(
                case,
                PostKind.CITIZEN,
                text=message.text,
                author=citizen.display_name,
                citizen=citizen,
                message=message,
            )
        voice = await self.voice(citizen, case, chat=case.chat)
        ack = voice.say(texts.ACK, reference=case.reference, department=voice.department(department))
        ack = " ".join([ack, *promise(voice, department, now=self.tx.now, due=due)])
        await self.tell(case.chat, case, ReplyKind.ACK, ack)

    async def open_root(
        self,
        case: Case,
        *,
        citizen: Citizen,
        department: Department,
        text: str,
        attachments: tuple[Attachment, ...] = (),
        first: Message | None = None,
    ) -> None:
        """Queue the root post that opens the case's thread in ``department``'s home."""
        await self.tx.enqueue(
            case_id=case.id,
            side=Side.DEPARTMENT,
            lane=department_lane(case),
            target=department.home,
            body=ThreadPost(PostKind.ROOT, card(case, citizen, department), text, citizen.display_name, attachments),
            message_id=first.id if first else None,
        )

    async def post(
        self,
        case: Case,
        kind: PostKind,
        *,
        text: str,
        author: str,
        citizen: Citizen | None = None,
        message: Message | None = None,
        about: str | None = None,
    ) -> None:
        """Queue a post into the case's current department thread (none while the case is pending)."""
        if case.department is None:
            return
        if citizen is None:
            citizen = await self.citizen_of(case)
        department = self.directory[case.department]
        attachments = message.attachments if message else ()
        body = ThreadPost(kind, card(case, citizen, department), text, author, attachments, about)
        await self.tx.enqueue(
            case_id=case.id,
            side=Side.DEPARTMENT,
            lane=department_lane(case),
            target=department.home,
            body=body,
            message_id=message.id if message else None,
            in_case_thread=True,
        )

    async def system(self, case: Case, line: str) -> None:
        """A line from the bridge in the case's record and its thread."""
        await self.tx.add_message(case_id=case.id, direction=Direction.SYSTEM, author=BRIDGE, text=line)
        await self.post(case, PostKind.SYSTEM, text=line, author=BRIDGE)

    async def update_root(self, case: Case) -> None:
        """The thread root shows the case as it stands now."""
        await self.post(case, PostKind.ROOT_UPDATE, text="", author=BRIDGE)

    async def close(self, case: Case, line: str) -> Case:
        """Close the case (no answer is due any more); its thread (if it has one) shows it and says ``line``."""
        case = await self.stop_answer_clock(case)
        case = await self.tx.save_case(replace(case, status=CaseStatus.CLOSED))
        self.effects.chats[case.chat] = False
        if case.department is None:  # a pending case has no thread yet: nothing to tell staff
            return case
        await self.update_root(case)
        await self.system(case, line)
        return case

    # --- the answer clock (``bot.relay.answer_clock``) ---------------------------------------

    async def start_answer_clock(
        self, case: Case, department: Department, target: timedelta | None, *, first: bool = False
    ) -> Case:
        """An answer is due ``target`` business time from now: save the due time, schedule its reminder and breach.

        ``first``: this is the case's first answer, whose due time is also kept in ``first_answer_due_at``.
        """
        timing = reminder_and_due(department, self.tx.now, target) if target is not None else None
        if timing is None:  # no promise: nothing to schedule (and nothing to write when no clock ran)
            return await self.stop_answer_clock(case)
        if case.answer_due_at is not None or case.overdue:  # its timers exist only while an answer is due
            await self._cancel_answer_jobs(case)
        reminder, due = timing
        if reminder is not None:
            await self.tx.schedule_job(ANSWER_REMINDER, due_at=reminder, case_id=case.id)
        await self.tx.schedule_job(ANSWER_BREACH, due_at=due, case_id=case.id)
        first_due = due if first and case.first_answer_due_at is None else case.first_answer_due_at
        return await self.tx.save_case(replace(case, answer_due_at=due, overdue=False, first_answer_due_at=first_due))

    async def stop_answer_clock(self, case: Case) -> Case:
        """No answer is due any more (staff answered, or the case closed): drop its jobs and the overdue flag."""
        if case.answer_due_at is None and not case.overdue:
            return case
        await self._cancel_answer_jobs(case)
        return await self.tx.save_case(replace(case, answer_due_at=None, overdue=False))

    async def _cancel_answer_jobs(self, case: Case) -> None:
        await self.tx.cancel_jobs(ANSWER_REMINDER, case.id)
        await self.tx.cancel_jobs(ANSWER_BREACH, case.id)

    def department_name(self, case: Case, voice: Voice) -> str:
        """The name of the case's department, as the citizen reads it."""
        department = self.directory.get(case.department) if case.department else None
        return voice.department(department) if department else voice.say(texts.STATUS_PENDING)


def card(case: Case, citizen: Citizen, department: Department) -> CaseCard:
    """What a department sees about a case on every post."""
    return CaseCard(
        reference=case.reference,
        department_key=department.key,
        department_name=department.name,
        platform=citizen.platform,
        citizen_name=citizen.display_name,
        language=spoken_language(citizen, case),
        status=case.status,
        claimed_by=case.claimed_by,
        answer_due_at=case.answer_due_at,
        overdue=case.overdue,
    )
