"""The citizen side: messages (opening a case on the first), the department menu, and commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import texts
from bot.consultations.render import is_engagement_button
from bot.departments import Directory
from bot.events import CitizenCommand, CitizenCommandKind, CitizenMessage, MenuChoice, Sender
from bot.language import normalize_language
from bot.model import (
    DISCORD,
    TELEGRAM,
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
from bot.privacy_notice import PrivacyNotice
from bot.relay import answer_clock, engagement, privacy_requests, ratings
from bot.relay.casework import Casework, citizen_lane
from bot.speech import Voice
from bot.storage.jobs import DueJob
from bot.storage.learned import LabelSource

OTHER = "other"
#: How each platform spells a command, for the help text's example (the web chat takes it as typed).
_COMMAND_PREFIX = {TELEGRAM: "/", DISCORD: "!"}

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

    def __init__(
        self,
        *,
        directory: Directory,
        limits: Limits,
        notice: Callable[[str | None], str] | None = None,
        menu_timeout: timedelta = timedelta(minutes=10),
    ) -> None:
        self._directory = directory
        self._limits = limits
        self._notice = notice or PrivacyNotice().text
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
            case MenuChoice() if ratings.is_rating_choice(event):
                await ratings.choose(work, event)
            case MenuChoice() if is_engagement_button(event.choice):
                await engagement.button_pressed(work, event.sender, event.chat, event.choice)
            case MenuChoice():
                await self._menu_choice(work, event.sender, event.chat, event.choice)

    # --- messages ------------------------------------------------------------------------------

    async def _message(self, work: Casework, event: CitizenMessage, attachments: tuple[Attachment, ...]) -> None:
        tx = work.tx
        # Touching the active case also locks its row: concurrent messages of one case queue in order.
        case = await tx.touch_active_case(event.chat)
        work.effects.chats[event.chat] = case is not None
        text = event.text.strip()
        if len(text) > self._limits.max_message_chars:
            voice = await work.voice_of_sender(event.sender, event.chat, case)
            reply = voice.say(texts.TOO_LONG, length=len(text), limit=self._limits.max_message_chars)
            await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
            return
        if not text and not attachments:
            voice = await work.voice_of_sender(event.sender, event.chat, case)
            await work.tell(event.chat, case, ReplyKind.SYSTEM, voice.say(texts.UNSUPPORTED))
            return
        # With no case open, the chat's last case: a rating may be due on it, and a new case follows it.
        last = await tx.last_case(event.chat) if case is None else None
        if await self._answers_a_question(work, event, case, text, attachments, last=last):
            return
        if event.edited:
            text = texts.EDITED.format(text=text)
        if case is None or case.status is CaseStatus.PENDING:
            citizen = await tx.citizen(event.sender)  # stored (or renamed) when a case starts
        else:
            citizen = _as_citizen(case, event.sender)  # the case's citizen, as they call themselves now
        if case is None:
            await self._open_case(work, citizen, event, text, attachments, previous=last)
            work.effects.chats[event.chat] = True
            return
        if case.status is CaseStatus.PENDING:
            if await self._menu_answer(work, event.sender, event.chat, case, text):
                return
            await self._store(work, case, citizen, event, text=text, attachments=attachments)
            voice = await work.voice(citizen, case, chat=event.chat)
            offered = await self._last_menu(work, case)
            await self._send_menu(work, case, event.chat, voice=voice, question=texts.MENU_AGAIN, candidates=offered)
            return
        message = await self._store(work, case, citizen, event, text=text, attachments=attachments)
        await work.post(
            case, PostKind.CITIZEN, text=message.text, author=citizen.display_name, citizen=citizen, message=message
        )
        await answer_clock.citizen_wrote(work, case)

    @staticmethod
    async def _answers_a_question(
        work: Casework,
        event: CitizenMessage,
        case: Case | None,
        text: str,
        attachments: tuple[Attachment, ...],
        *,
        last: Case | None,
    ) -> bool:
        """Whether the message answers a question the bridge asked: the rating after a close, else a consultation.

        ``case`` is the chat's open case; with none, ``last`` is its last (closed) case.
        """
        if case is None and not event.edited and await ratings.typed(work, event.sender, event.chat, text, last):
            return True
        return not attachments and await engagement.typed_answer(work, event, case, text)

    async def _open_case(
        self,
        work: Casework,
        citizen: Citizen,
        event: CitizenMessage,
        text: str,
        attachments: tuple[Attachment, ...],
        *,
        previous: Case | None,
    ) -> None:
        """Route the first message: a thread in the department chosen, or a menu when the router is unsure.

        ``previous``: the chat's last case before this one (a follow-up case links to it).
        """
        decision = work.decision(text, language=citizen.language)
        department = self._directory.get(decision.department) if decision.department else None
        # The router falls back to the locale it was given when the text is too short to tell: that is not
        # the text's language, and the locale is used below the identified language anyway.
        identified = normalize_language(decision.language)
        if identified == normalize_language(citizen.language):
            identified = None
        case = await work.tx.create_case(
            citizen=citizen,
            chat=event.chat,
            department=department.key if department else None,
            status=CaseStatus.OPEN if department else CaseStatus.PENDING,
            previous=previous.id if previous else None,
            language=identified,
        )
        message = await self._store(work, case, citizen, event, text=text, attachments=attachments)
        if department is None:
            candidates = tuple(c for c in decision.candidates if self._directory.get(c) is not None)
            voice = await work.voice(citizen, case, chat=event.chat)
            await self._send_menu(work, case, event.chat, voice=voice, question=texts.MENU, candidates=candidates)
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
        self,
        work: Casework,
        case: Case,
        chat: Address,
        *,
        voice: Voice,
        question: texts.Msg,
        candidates: tuple[str, ...],
    ) -> None:
        keys = [key for key in candidates or self._all_candidates() if key != self._directory.fallback]
        options = (
            *(MenuOption(key, voice.department(self._directory[key])) for key in keys),
            MenuOption(OTHER, voice.say(texts.OTHER)),
        )
        numbered = "\n".join(f"{number}. {option.label}" for number, option in enumerate(options, start=1))
        body = CitizenReply(ReplyKind.MENU, f"{voice.say(question)}\n{numbered}", case.reference, options=options)
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
        elif words in {
            OTHER,
            *(work.languages.voice(code).say(texts.OTHER).casefold() for code in work.languages.offered),
        }:
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
            voice = await work.voice_of_sender(sender, chat, case)
            await work.tell(chat, case, ReplyKind.SYSTEM, voice.say(texts.MENU_STALE))
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
        voice = await work.voice(citizen, case, chat=case.chat)
        told = voice.say(texts.MENU_TIMED_OUT, department=voice.department(department))
        await work.tell(case.chat, case, ReplyKind.SYSTEM, told)
        await work.start_thread(
            case, citizen=citizen, department=department, messages=messages, previous=previous, note=note
        )

    # --- commands ------------------------------------------------------------------------------

    async def _command(self, work: Casework, event: CitizenCommand) -> None:
        case = await work.tx.active_case(event.chat)
        if event.command in engagement.COMMANDS:
            await self._engagement(work, event, case)
            return
        if event.command is CitizenCommandKind.LANGUAGE:
            await self._language(work, event, case)
            return
        voice = await work.voice_of_sender(event.sender, event.chat, case)
        match event.command:
            case CitizenCommandKind.START:
                reply = f"{voice.say(texts.GREETING)}\n\n{self._notice(voice.language)}"
                await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
            case CitizenCommandKind.HELP:
                await work.tell(event.chat, case, ReplyKind.SYSTEM, self._help(work, voice, event.sender))
            case CitizenCommandKind.STATUS:
                await work.tell(event.chat, case, ReplyKind.SYSTEM, await self._status(work, voice, event.chat))
            case CitizenCommandKind.NEW:
                if case is None:
                    await work.tell(event.chat, None, ReplyKind.SYSTEM, voice.say(texts.NEW_NONE))
                    return
                await work.close(case, texts.CLOSED_BY_CITIZEN)
                reply = voice.say(texts.NEW_CASE, reference=case.reference)
                await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
            case CitizenCommandKind.MYDATA:
                await privacy_requests.send_my_data(work, event, case)
            case CitizenCommandKind.FORGET:
                await privacy_requests.forget(work, event)

    async def _engagement(self, work: Casework, event: CitizenCommand, case: Case | None) -> None:
        """Subscriptions and answers (``bot.relay.engagement``).

        "answer …" typed on the web chat with no consultation ever sent is a case message after all.
        """
        if not await engagement.command_given(work, event, case):
            typed = CitizenMessage(event.event_id, event.sender, event.chat, f"answer {event.argument}".strip())
            await self._message(work, typed, ())

    def _help(self, work: Casework, voice: Voice, sender: Sender) -> str:
        """The commands, and how to choose a language (with an offered language other than theirs as the example)."""
        other = next((code for code in work.languages.offered if code != voice.language), voice.language)
        example = f"{_COMMAND_PREFIX.get(sender.platform, '')}language {other}"
        prefix = _COMMAND_PREFIX.get(sender.platform, "")
        follow = voice.say(
            texts.HELP_FOLLOW, subscribe=f"{prefix}subscribe", topics=f"{prefix}topics", stop=f"{prefix}stop"
        )
        return f"{voice.say(texts.HELP)}\n{voice.say(texts.HELP_LANGUAGE, example=example)}\n{follow}"

    async def _status(self, work: Casework, voice: Voice, chat: Address) -> str:
        """The citizen's cases, newest first, each with its last change in their language and the office's zone."""
        cases = await work.tx.cases_of_chat(chat)
        if not cases:
            return voice.say(texts.NO_CASES)
        lines = [
            voice.say(
                texts.STATUS_LINE_UPDATED,
                reference=c.reference,
                department=work.department_name(c, voice),
                status=voice.say(texts.STATUS_WORDS[c.status.value]),
                updated=voice.when(c.updated_at),
            )
            for c in cases
        ]
        return "\n".join([voice.count(texts.STATUS_HEADER, len(cases)), *lines])

    async def _language(self, work: Casework, event: CitizenCommand, case: Case | None) -> None:
        """``language``: list the offered languages; ``language es``: choose one, confirmed in it."""
        argument = event.argument.strip()
        if not argument:
            voice = await work.voice_of_sender(event.sender, event.chat, case)
            reply = voice.say(
                texts.LANGUAGE_CURRENT, language=voice.language_name(voice.language), languages=work.languages.listed()
            )
            await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
            return
        chosen = work.languages.parse(argument)
        if chosen is None:
            voice = await work.voice_of_sender(event.sender, event.chat, case)
            reply = voice.say(texts.LANGUAGE_UNKNOWN, languages=work.languages.listed())
            await work.tell(event.chat, case, ReplyKind.SYSTEM, reply)
            return
        citizen = await work.tx.citizen(event.sender)  # the choice is kept on their row, erased with it
        await work.tx.save_citizen_language(replace(citizen, chosen_language=chosen))
        voice = work.languages.voice(chosen)
        await work.tell(
            event.chat, case, ReplyKind.SYSTEM, voice.say(texts.LANGUAGE_SET, language=voice.language_name(chosen))
        )
