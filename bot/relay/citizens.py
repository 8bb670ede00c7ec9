"""The citizen side: messages (opening a case on the first), the department menu, and commands."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot import texts
from bot.departments import Directory
from bot.events import CitizenCommand, CitizenCommandKind, CitizenMessage, MenuChoice, Sender
from bot.model import (
    Address,
    Attachment,
    Case,
    CaseStatus,
    Citizen,
    CitizenReply,
    Direction,
    MenuOption,
    Message,
    PostKind,
    ReplyKind,
    Side,
)
from bot.ports import RoutingPolicy
from bot.relay.casework import Casework, citizen_lane
from bot.storage.jobs import DueJob
from bot.storage.learned import LabelSource

OTHER = "other"

#: The due job that sends a pending case to the fallback when its citizen never answers the menu.
MENU_TIMEOUT = "menu_timeout"


@dataclass(frozen=True, slots=True)
class Limits:
    """How large a citizen message may be."""

    max_message_chars: int = 8000


def _as_citizen(case: Case, sender: Sender) -> Citizen:
    """The case's citizen as the platform describes them in this event (no database read)."""
    return Citizen(case.citizen_id, sender.platform, sender.user_id, sender.display_name, sender.language)


class CitizenSide:
    """Handles what citizens send, inside the transaction the relay opened for it."""

    def __init__(self, *, directory: Directory, router: RoutingPolicy, limits: Limits, menu_timeout: timedelta) -> None:
        self._directory = directory
        self._router = router
        self._limits = limits
        self._menu_timeout = menu_timeout

    async def handle(
        self, work: Casework, event: CitizenMessage | CitizenCommand | MenuChoice, attachments: tuple[Attachment, ...]
    ) -> None:
        """Store one citizen event and queue what it causes."""
        match event:
            case CitizenMessage():
                await self._message(work, event, attachments)
            case CitizenCommand():
                await self._command(work, event)
            case MenuChoice():
                await self._menu_choice(work, event.sender, event.chat, event.choice)

    # --- messages ------------------------------------------------------------------------------

    async def _message(self, work: Casework, event: CitizenMessage, attachments: tuple[Attachment, ...]) -> None:
        tx = work.tx
        # Touching the active case also locks its row: concurrent messages of one case queue in order.
        case = await tx.touch_active_case(event.chat)
        text = event.text.strip()
        if len(text) > self._limits.max_message_chars:
            reply = texts.TOO_LONG.format(length=len(text), limit=self._limits.max_message_chars)
            await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
            return
        if not text and not attachments:
            await work.tell(event.chat, case, ReplyKind.SYSTEM, texts.UNSUPPORTED)
            return
        if event.edited:
            text = texts.EDITED.format(text=text)
        if case is None or case.status is CaseStatus.PENDING:
            citizen = await tx.citizen(event.sender)  # stored (or renamed) when a case starts
        else:
            citizen = _as_citizen(case, event.sender)  # the case's citizen, as they call themselves now
        if case is None:
            await self._open_case(work, citizen, event, text, attachments)
            return
        if case.status is CaseStatus.PENDING:
            if await self._menu_answer(work, event.sender, event.chat, case, text):
                return
            await self._store(work, case, citizen, event, text=text, attachments=attachments)
            await self._send_menu(work, case, event.chat, texts.MENU_AGAIN, await self._last_menu(work, case))
            return
        message = await self._store(work, case, citizen, event, text=text, attachments=attachments)
        await work.post(
            case, PostKind.CITIZEN, text=message.text, author=citizen.display_name, citizen=citizen, message=message
        )

    async def _open_case(
        self, work: Casework, citizen: Citizen, event: CitizenMessage, text: str, attachments: tuple[Attachment, ...]
    ) -> None:
        """Route the first message: a thread in the department chosen, or a menu when the router is unsure."""
        previous = await work.tx.last_case(event.chat)
        decision = self._router.route(text, language=citizen.language)
        department = self._directory.get(decision.department) if decision.department else None
        case = await work.tx.create_case(
            citizen=citizen,
            chat=event.chat,
            department=department.key if department else None,
            status=CaseStatus.OPEN if department else CaseStatus.PENDING,
            previous=previous.id if previous else None,
        )
        message = await self._store(work, case, citizen, event, text=text, attachments=attachments)
        if department is None:
            candidates = tuple(c for c in decision.candidates if self._directory.get(c) is not None)
            await self._send_menu(work, case, event.chat, texts.MENU, candidates)
            await work.tx.schedule_job(MENU_TIMEOUT, due_at=work.tx.now + self._menu_timeout, case_id=case.id)
            return
        await work.start_thread(case, citizen=citizen, department=department, messages=[message], previous=previous)

    async def _store(
        self,
        work: Casework,
        case: Case,
        citizen: Citizen,
        event: CitizenMessage,
        *,
        text: str,
        attachments: tuple[Attachment, ...],
    ) -> Message:
        return await work.tx.add_message(
            case_id=case.id,
            direction=Direction.CITIZEN,
            author=citizen.display_name,
            text=text,
            attachments=attachments,
            source=event.chat,
            source_id=event.source_id,
        )

    # --- the department menu (the router was unsure) -------------------------------------------

    def _all_candidates(self) -> tuple[str, ...]:
        return tuple(d.key for d in self._directory.departments if d.key != self._directory.fallback)

    async def _send_menu(
        self, work: Casework, case: Case, chat: Address, text: str, candidates: tuple[str, ...]
    ) -> None:
        keys = [key for key in candidates or self._all_candidates() if key != self._directory.fallback]
        options = (*(MenuOption(key, self._directory[key].name) for key in keys), MenuOption(OTHER, texts.OTHER))
        numbered = "\n".join(f"{number}. {option.label}" for number, option in enumerate(options, start=1))
        body = CitizenReply(ReplyKind.MENU, f"{text}\n{numbered}", case.reference, options=options)
        await work.tx.enqueue(case_id=case.id, side=Side.CITIZEN, lane=citizen_lane(chat), target=chat, body=body)

    async def _last_menu(self, work: Casework, case: Case) -> tuple[str, ...]:
        """The department keys the case's last menu offered, in its order (without Other)."""
        for delivery in reversed(await work.tx.deliveries_of_case(case.id)):
            body = delivery.body
            if isinstance(body, CitizenReply) and body.kind is ReplyKind.MENU:
                return tuple(option.key for option in body.options if option.key != OTHER)
        return self._all_candidates()

    async def _menu_answer(self, work: Casework, sender: Sender, chat: Address, case: Case, text: str) -> bool:
        """A pending case's citizen may answer the menu by number or by name; True if they did."""
        options = [*await self._last_menu(work, case), OTHER]
        words = text.strip().rstrip(".").casefold()
        chosen = None
        if words.isdigit() and 1 <= int(words) <= len(options):
            chosen = options[int(words) - 1]
        elif words in {OTHER, texts.OTHER.casefold()}:
            chosen = OTHER
        elif (named := self._directory.find(words)) is not None:
            chosen = named.key
        if chosen is None:
            return False
        await self._menu_choice(work, sender, chat, chosen)
        return True

    async def _menu_choice(self, work: Casework, sender: Sender, chat: Address, choice: str) -> None:
        tx = work.tx
        case = await tx.touch_active_case(chat)  # locked: the menu's timeout cannot act on it at the same time
        if case is None or case.status is not CaseStatus.PENDING:
            await work.tell(chat, case, ReplyKind.SYSTEM, texts.MENU_STALE)
            return
        citizen = await tx.citizen(sender)
        department = self._directory.get(choice) or self._directory[self._directory.fallback]
        case = await tx.save_case(replace(case, department=department.key, status=CaseStatus.OPEN))
        await tx.cancel_jobs(MENU_TIMEOUT, case.id)
        if choice != OTHER and department.key == choice:  # "Other" says where the case does not belong, not where
            await tx.label_case(case.id, department.key, LabelSource.MENU)
        messages = [m for m in await tx.messages(case.id) if m.direction is Direction.CITIZEN]
        previous = await tx.case(case.previous_case_id) if case.previous_case_id else None
        await work.start_thread(case, citizen=citizen, department=department, messages=messages, previous=previous)

    async def menu_timed_out(self, work: Casework, job: DueJob) -> None:
        """Nobody answered the case's menu in time: it goes to the fallback, whose thread root shows the candidates."""
        tx = work.tx
        pending = await tx.case(job.case_id) if job.case_id is not None else None
        if pending is None:
            return
        case = await tx.touch_active_case(pending.chat)  # locked: a menu answer cannot act on it at the same time
        if case is None or case.id != pending.id or case.status is not CaseStatus.PENDING:
            return  # answered, closed or replaced meanwhile
        offered = await self._last_menu(work, case)
        department = self._directory[self._directory.fallback]
        case = await tx.save_case(replace(case, department=department.key, status=CaseStatus.OPEN))
        citizen = await work.citizen_of(case)
        messages = [m for m in await tx.messages(case.id) if m.direction is Direction.CITIZEN]
        previous = await tx.case(case.previous_case_id) if case.previous_case_id else None
        names = ", ".join(self._directory[key].name for key in offered if self._directory.get(key) is not None)
        minutes = round(self._menu_timeout.total_seconds() / 60)
        note = texts.MENU_TIMEOUT_ROOT.format(minutes=minutes, candidates=names or "(none)")
        await work.tell(case.chat, case, ReplyKind.SYSTEM, texts.MENU_TIMED_OUT.format(department=department.name))
        await work.start_thread(
            case, citizen=citizen, department=department, messages=messages, previous=previous, note=note
        )

    # --- commands ------------------------------------------------------------------------------

    async def _command(self, work: Casework, event: CitizenCommand) -> None:
        case = await work.tx.active_case(event.chat)
        match event.command:
            case CitizenCommandKind.START:
                await work.tell(event.chat, case, ReplyKind.SYSTEM, f"{texts.GREETING}\n\n{texts.PRIVACY}")
            case CitizenCommandKind.HELP:
                await work.tell(event.chat, case, ReplyKind.SYSTEM, texts.HELP)
            case CitizenCommandKind.STATUS:
                lines = [
                    texts.STATUS_LINE.format(
                        reference=c.reference, department=work.department_name(c), status=c.status.value
                    )
                    for c in await work.tx.cases_of_chat(event.chat)
                ]
                await work.tell(event.chat, case, ReplyKind.SYSTEM, "\n".join(lines) or texts.NO_CASES)
            case CitizenCommandKind.NEW:
                if case is None:
                    await work.tell(event.chat, None, ReplyKind.SYSTEM, texts.NEW_NONE)
                    return
                await work.close(case, texts.CLOSED_BY_CITIZEN)
                reply = texts.NEW_CASE.format(reference=case.reference)
                await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
