"""The relay: turns normalised inbound events into stored messages and outbox deliveries.

Every event is handled in one transaction: the event id is claimed (so a
redelivered event changes nothing), the case is found or opened, the message
stored and the deliveries queued. Sending happens later, in the delivery
worker, which reports back through ``sent_all`` and ``failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from bot import texts
from bot.departments import Department, Directory
from bot.events import (
    CitizenCommand,
    CitizenCommandKind,
    CitizenMessage,
    InboundEvent,
    MenuChoice,
    Sender,
    StaffAction,
    StaffActionKind,
    StaffEdit,
    StaffMessage,
)
from bot.model import (
    Address,
    Attachment,
    Case,
    CaseCard,
    CaseStatus,
    Citizen,
    CitizenReply,
    Delivery,
    DeliveryState,
    DepartmentKey,
    Direction,
    MenuOption,
    Message,
    Platform,
    PostKind,
    ReplyKind,
    Sent,
    Side,
    ThreadPost,
)
from bot.storage.store import Store, Tx

OTHER = "other"
NOTE_PREFIX = "note:"


class Decision(Protocol):
    """A routing decision; ``department`` None means: ask the citizen among ``candidates``."""

    @property
    def department(self) -> str | None:
        """The chosen department's key, or None when unsure."""

    @property
    def confidence(self) -> float:
        """How sure the router is, from 0 to 1."""

    @property
    def reason(self) -> str:
        """Why, in words an admin understands."""

    @property
    def candidates(self) -> tuple[str, ...]:
        """The departments to offer when unsure, best first."""


class Router(Protocol):
    """Chooses a department for a citizen's first message."""

    def route(self, text: str, *, language: str | None = None) -> Decision:
        """Decide where a first message goes."""


class Observer(Protocol):
    """Counts what the relay does (metrics); the relay works the same without one."""

    def message_in(self, platform: str) -> None:
        """An inbound event was accepted."""

    def routed(self, department: str) -> None:
        """A case was routed to a department."""


class _Silent:
    def message_in(self, platform: str) -> None:
        pass

    def routed(self, department: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Limits:
    """How large a citizen message may be."""

    max_message_chars: int = 8000


def _as_citizen(case: Case, sender: Sender) -> Citizen:
    """The case's citizen as the platform describes them in this event (no database read)."""
    return Citizen(case.citizen_id, sender.platform, sender.user_id, sender.display_name, sender.language)


def _origin(event: InboundEvent) -> Platform:
    """The platform an event came from: its event ids are unique there."""
    if isinstance(event, CitizenMessage | CitizenCommand | MenuChoice):
        return event.sender.platform
    return event.thread.platform


def citizen_lane(chat: Address) -> str:
    """Everything said to one citizen chat goes out in order."""
    return f"chat:{chat.platform}:{chat.chat}"


def department_lane(case: Case) -> str:
    """Everything posted for one case on the department side goes out in order."""
    return f"case:{case.id}"


class Relay:
    """The service at the centre. Adapters call ``accept``; the delivery worker calls ``sent_all``/``failed``."""

    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        router: Router,
        on_queued: Callable[[], None] = lambda: None,
        observer: Observer | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._router = router
        self._on_queued = on_queued
        self._observer: Observer = observer or _Silent()
        self._limits = limits or Limits()

    @property
    def directory(self) -> Directory:
        """The departments this relay routes to."""
        return self._directory

    async def accept(self, event: InboundEvent) -> None:
        """Store one inbound event and queue what it causes; a duplicate changes nothing."""
        if isinstance(event, StaffMessage) and event.is_bot:
            return
        platform = _origin(event)
        files = event.files if isinstance(event, CitizenMessage | StaffMessage) else ()

        async def work(tx: Tx) -> bool:
            if not await tx.claim_event(platform, event.event_id):
                return False
            attachments = tuple([await tx.save_file(f) for f in files])
            await self._handle(tx, event, attachments)
            return True

        if await self._store.atomic(work):
            self._observer.message_in(platform)
            self._on_queued()

    async def _handle(self, tx: Tx, event: InboundEvent, attachments: tuple[Attachment, ...]) -> None:
        match event:
            case CitizenMessage():
                await self._citizen_message(tx, event, attachments)
            case CitizenCommand():
                await self._citizen_command(tx, event)
            case MenuChoice():
                await self._menu_choice(tx, event.sender, event.chat, event.choice)
            case StaffMessage():
                await self._staff_message(tx, event, attachments)
            case StaffAction():
                await self._staff_action(tx, event)
            case StaffEdit():
                await self._staff_edit(tx, event)

    # --- citizens ------------------------------------------------------------------------

    async def _citizen_message(self, tx: Tx, event: CitizenMessage, attachments: tuple[Attachment, ...]) -> None:
        # Touching the active case also locks its row: concurrent messages of one case queue in order.
        case = await tx.touch_active_case(event.chat)
        text = event.text.strip()
        if len(text) > self._limits.max_message_chars:
            reply = texts.TOO_LONG.format(length=len(text), limit=self._limits.max_message_chars)
            await self._tell(tx, event.chat, case, ReplyKind.SYSTEM, reply)
            return
        if not text and not attachments:
            await self._tell(tx, event.chat, case, ReplyKind.SYSTEM, texts.UNSUPPORTED)
            return
        if event.edited:
            text = texts.EDITED.format(text=text)
        if case is None or case.status is CaseStatus.PENDING:
            citizen = await tx.citizen(event.sender)  # stored (or renamed) when a case starts
        else:
            citizen = _as_citizen(case, event.sender)  # the case's citizen, as they call themselves now
        if case is not None and case.status is CaseStatus.PENDING:
            if await self._menu_answer(tx, event.sender, event.chat, case, text):
                return
            await self._store_citizen(tx, case, citizen=citizen, event=event, text=text, attachments=attachments)
            await self._send_menu(tx, case, event.chat, texts.MENU_AGAIN, await self._last_menu(tx, case))
            return
        if case is None:
            await self._open_case(tx, citizen, event, text, attachments)
            return
        message = await self._store_citizen(tx, case, citizen=citizen, event=event, text=text, attachments=attachments)
        await self._post(
            tx, case, PostKind.CITIZEN, text=message.text, author=citizen.display_name, citizen=citizen, message=message
        )

    async def _open_case(
        self, tx: Tx, citizen: Citizen, event: CitizenMessage, text: str, attachments: tuple[Attachment, ...]
    ) -> None:
        previous = await tx.last_case(event.chat)
        decision = self._router.route(text, language=citizen.language)
        department = self._directory.get(decision.department) if decision.department else None
        status = CaseStatus.OPEN if department else CaseStatus.PENDING
        case = await tx.create_case(
            citizen=citizen,
            chat=event.chat,
            department=department.key if department else None,
            status=status,
            previous=previous.id if previous else None,
        )
        message = await self._store_citizen(tx, case, citizen=citizen, event=event, text=text, attachments=attachments)
        if department is None:
            candidates = tuple(c for c in decision.candidates if self._directory.get(c) is not None)
            await self._send_menu(tx, case, event.chat, texts.MENU, candidates)
            return
        await self._start_thread(
            tx, case, citizen=citizen, department=department, messages=[message], previous=previous
        )

    async def _start_thread(
        self,
        tx: Tx,
        case: Case,
        *,
        citizen: Citizen,
        department: Department,
        messages: list[Message],
        previous: Case | None,
    ) -> None:
        """Queue the thread root (with the first message), later messages as replies, and the ack."""
        self._observer.routed(department.key)
        first, *rest = messages
        root_text = first.text
        if previous is not None:
            root_text = f"{root_text}\n\n{texts.ROOT_PREVIOUS.format(reference=previous.reference)}"
        card = self._card(case, citizen, department)
        await tx.enqueue(
            case_id=case.id,
            side=Side.DEPARTMENT,
            lane=department_lane(case),
            target=department.home,
            body=ThreadPost(PostKind.ROOT, card, root_text, citizen.display_name, first.attachments),
            message_id=first.id,
        )
        for message in rest:
            await self._post(
                tx,
                case,
                PostKind.CITIZEN,
                text=message.text,
                author=citizen.display_name,
                citizen=citizen,
                message=message,
            )
        ack = texts.ACK.format(reference=case.reference, department=department.name)
        await self._tell(tx, case.chat, case, ReplyKind.ACK, ack)

    async def _store_citizen(
        self,
        tx: Tx,
        case: Case,
        *,
        citizen: Citizen,
        event: CitizenMessage,
        text: str,
        attachments: tuple[Attachment, ...],
    ) -> Message:
        return await tx.add_message(
            case_id=case.id,
            direction=Direction.CITIZEN,
            author=citizen.display_name,
            text=text,
            attachments=attachments,
            source=event.chat,
            source_id=event.source_id,
        )

    def _all_candidates(self) -> tuple[str, ...]:
        return tuple(d.key for d in self._directory.departments if d.key != self._directory.fallback)

    async def _send_menu(self, tx: Tx, case: Case, chat: Address, text: str, candidates: tuple[str, ...]) -> None:
        keys = [key for key in candidates or self._all_candidates() if key != self._directory.fallback]
        options = (*(MenuOption(key, self._directory[key].name) for key in keys), MenuOption(OTHER, texts.OTHER))
        numbered = "\n".join(f"{number}. {option.label}" for number, option in enumerate(options, start=1))
        body = CitizenReply(ReplyKind.MENU, f"{text}\n{numbered}", case.reference, options=options)
        await tx.enqueue(case_id=case.id, side=Side.CITIZEN, lane=citizen_lane(chat), target=chat, body=body)

    async def _last_menu(self, tx: Tx, case: Case) -> tuple[str, ...]:
        """The department keys the case's last menu offered, in its order (without Other)."""
        for delivery in reversed(await tx.deliveries_of_case(case.id)):
            body = delivery.body
            if isinstance(body, CitizenReply) and body.kind is ReplyKind.MENU:
                return tuple(option.key for option in body.options if option.key != OTHER)
        return self._all_candidates()

    async def _menu_answer(self, tx: Tx, sender: Sender, chat: Address, case: Case, text: str) -> bool:
        """A pending case's citizen may answer the menu by number or by name; True if they did."""
        options = [*await self._last_menu(tx, case), OTHER]
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
        await self._menu_choice(tx, sender, chat, chosen)
        return True

    async def _menu_choice(self, tx: Tx, sender: Sender, chat: Address, choice: str) -> None:
        case = await tx.active_case(chat)
        if case is None or case.status is not CaseStatus.PENDING:
            await self._tell(tx, chat, case, ReplyKind.SYSTEM, texts.MENU_STALE)
            return
        citizen = await tx.citizen(sender)
        department = self._directory.get(choice) or self._directory[self._directory.fallback]
        case = await tx.save_case(replace(case, department=department.key, status=CaseStatus.OPEN))
        messages = [m for m in await tx.messages(case.id) if m.direction is Direction.CITIZEN]
        previous = await tx.case(case.previous_case_id) if case.previous_case_id else None
        await self._start_thread(tx, case, citizen=citizen, department=department, messages=messages, previous=previous)

    async def _citizen_command(self, tx: Tx, event: CitizenCommand) -> None:
        case = await tx.active_case(event.chat)
        match event.command:
            case CitizenCommandKind.START:
                await self._tell(tx, event.chat, case, ReplyKind.SYSTEM, f"{texts.GREETING}\n\n{texts.PRIVACY}")
            case CitizenCommandKind.HELP:
                await self._tell(tx, event.chat, case, ReplyKind.SYSTEM, texts.HELP)
            case CitizenCommandKind.STATUS:
                cases = await tx.cases_of_chat(event.chat)
                lines = [
                    texts.STATUS_LINE.format(
                        reference=c.reference,
                        department=self._department_name(c),
                        status=c.status.value,
                    )
                    for c in cases
                ]
                await self._tell(tx, event.chat, case, ReplyKind.SYSTEM, "\n".join(lines) or texts.NO_CASES)
            case CitizenCommandKind.NEW:
                if case is None:
                    await self._tell(tx, event.chat, None, ReplyKind.SYSTEM, texts.NEW_NONE)
                    return
                await self._close(tx, case, texts.CLOSED_BY_CITIZEN)
                await self._tell(
                    tx, event.chat, case, ReplyKind.SYSTEM, texts.NEW_CASE.format(reference=case.reference)
                )

    # --- staff -----------------------------------------------------------------------------

    async def _staff_message(self, tx: Tx, event: StaffMessage, attachments: tuple[Attachment, ...]) -> None:
        case = await tx.touch_case_by_thread(event.thread)
        if case is None or case.department is None:
            return
        department = self._directory[case.department]
        text = event.text.strip()
        note = text.casefold().startswith(NOTE_PREFIX)
        message = await tx.add_message(
            case_id=case.id,
            direction=Direction.NOTE if note else Direction.STAFF,
            author=event.author_name,
            text=text,
            attachments=attachments,
            source=event.thread,
            source_id=event.source_id,
        )
        if note:  # internal: stored for the desk and the record, never sent to the citizen
            return
        signature = department.name
        if department.sign_with_officer_name and event.author_name:
            signature = f"{event.author_name.split()[0]}, {department.name}"
        body = CitizenReply(ReplyKind.STAFF, text, case.reference, signature=signature, attachments=attachments)
        await tx.enqueue(
            case_id=case.id,
            side=Side.CITIZEN,
            lane=citizen_lane(case.chat),
            target=case.chat,
            body=body,
            message_id=message.id,
        )

    async def _staff_action(self, tx: Tx, event: StaffAction) -> None:
        case = await tx.case_by_thread(event.thread)
        if case is None or case.department is None:
            return
        department = self._directory[case.department]
        match event.action:
            case StaffActionKind.CLOSE:
                if case.status is CaseStatus.CLOSED:
                    await self._system(tx, case, texts.ALREADY.format(status="closed"))
                    return
                await self._close(tx, case, texts.CLOSED_STAFF.format(actor=event.actor_name))
                reply = texts.CLOSED_CITIZEN.format(reference=case.reference, department=department.name)
                await self._tell(tx, case.chat, case, ReplyKind.SYSTEM, reply)
            case StaffActionKind.REOPEN:
                await self._reopen(tx, case, department, event.actor_name)
            case StaffActionKind.TRANSFER:
                await self._transfer(tx, case, department, event)
            case StaffActionKind.CLAIM:
                case = await tx.save_case(replace(case, claimed_by=event.actor_name))
                await self._update_root(tx, case)
                await self._system(tx, case, texts.CLAIMED_STAFF.format(actor=event.actor_name))
                reply = texts.CLAIMED_CITIZEN.format(
                    officer=event.actor_name.split()[0] if event.actor_name else "An officer",
                    department=department.name,
                    reference=case.reference,
                )
                await self._tell(tx, case.chat, case, ReplyKind.SYSTEM, reply)

    async def _close(self, tx: Tx, case: Case, line: str) -> None:
        case = await tx.save_case(replace(case, status=CaseStatus.CLOSED))
        if case.department is None:  # a pending case has no thread yet: nothing to tell staff
            return
        await self._update_root(tx, case)
        await self._system(tx, case, line)

    async def _reopen(self, tx: Tx, case: Case, department: Department, actor: str) -> None:
        if case.status is not CaseStatus.CLOSED:
            await self._system(tx, case, texts.ALREADY.format(status=case.status.value))
            return
        other = await tx.active_case(case.chat)
        if other is not None:
            await self._system(tx, case, texts.REOPEN_REFUSED.format(reference=other.reference))
            return
        case = await tx.save_case(replace(case, status=CaseStatus.OPEN))
        await self._update_root(tx, case)
        await self._system(tx, case, texts.REOPENED_STAFF.format(actor=actor))
        reply = texts.REOPENED_CITIZEN.format(reference=case.reference, department=department.name)
        await self._tell(tx, case.chat, case, ReplyKind.SYSTEM, reply)

    async def _transfer(self, tx: Tx, case: Case, current: Department, event: StaffAction) -> None:
        target = self._directory.find(event.department or "")
        if target is None:
            known = ", ".join(d.key for d in self._directory.departments)
            await self._system(tx, case, texts.TRANSFER_UNKNOWN.format(name=event.department or "", known=known))
            return
        if target.key == current.key:
            await self._system(tx, case, texts.TRANSFER_SAME.format(department=current.name))
            return
        await self._system(tx, case, texts.TRANSFERRED_STAFF.format(department=target.name, actor=event.actor_name))
        # The old root stops offering actions: its thread no longer leads to the case.
        await self._post(
            tx, case, PostKind.ROOT_UPDATE, text=texts.TRANSFERRED_ROOT.format(department=target.name), author="bridge"
        )
        case = await tx.save_case(replace(case, department=target.key, claimed_by=None))
        citizen = await tx.citizen_by_id(case.citizen_id)
        assert citizen is not None  # noqa: S101  # a case's citizen row is never deleted
        history = [m for m in await tx.messages(case.id) if m.direction in {Direction.CITIZEN, Direction.STAFF}]
        transcript = "\n".join(f"{m.author}: {m.text}" for m in history)
        root_text = f"{texts.TRANSFERRED_IN.format(department=current.name)}\n{transcript}"
        await tx.enqueue(
            case_id=case.id,
            side=Side.DEPARTMENT,
            lane=department_lane(case),
            target=target.home,
            body=ThreadPost(PostKind.ROOT, self._card(case, citizen, target), root_text, citizen.display_name),
        )
        reply = texts.TRANSFERRED_CITIZEN.format(reference=case.reference, department=target.name)
        await self._tell(tx, case.chat, case, ReplyKind.SYSTEM, reply)

    async def _staff_edit(self, tx: Tx, event: StaffEdit) -> None:
        message = await tx.message_by_source(event.thread.platform, event.source_id)
        if message is None or message.direction is not Direction.STAFF:
            return
        case = await tx.case(message.case_id)
        if case is not None:
            await self._system(tx, case, texts.EDIT_NOT_RELAYED)

    # --- the delivery worker reports back ----------------------------------------------

    async def sent_all(self, results: Sequence[tuple[Delivery, Sent]]) -> None:
        """Record sends in one transaction (the worker groups those that finish together).

        A staff reply that reached the citizen gets a receipt in its thread.
        """

        async def work(tx: Tx) -> None:
            await tx.complete_all(results)
            for delivery, _sent in results:
                await self._receipt(tx, delivery)

        await self._store.atomic(work)
        self._on_queued()

    async def _receipt(self, tx: Tx, delivery: Delivery) -> None:
        """A staff reply the citizen now has: mark it delivered in its thread."""
        body = delivery.body
        if not (isinstance(body, CitizenReply) and body.kind is ReplyKind.STAFF and delivery.message_id):
            return
        context = await tx.receipt_context(delivery.message_id)
        if context is None:
            return
        case, citizen, source = context
        if source is not None:
            await self._post(
                tx, case, PostKind.RECEIPT, text="delivered", author="bridge", citizen=citizen, about=source
            )

    async def failed(self, delivery: Delivery, reason: str) -> None:
        """Record a permanent failure; staff are told in the case's thread."""

        async def work(tx: Tx) -> None:
            await tx.set_delivery(delivery.id, state=DeliveryState.FAILED, last_error=reason)
            if delivery.side is Side.CITIZEN and delivery.case_id is not None:
                case = await tx.case(delivery.case_id)
                if case is not None and case.department is not None:
                    await self._system(tx, case, texts.DELIVERY_FAILED.format(reason=reason))

        await self._store.atomic(work)
        self._on_queued()

    # --- helpers -----------------------------------------------------------------------------

    def _department_name(self, case: Case) -> str:
        department = self._directory.get(case.department) if case.department else None
        return department.name if department else "(choosing a department)"

    def _card(self, case: Case, citizen: Citizen, department: Department) -> CaseCard:
        return CaseCard(
            reference=case.reference,
            department_key=department.key,
            department_name=department.name,
            platform=citizen.platform,
            citizen_name=citizen.display_name,
            language=citizen.language,
            status=case.status,
            claimed_by=case.claimed_by,
        )

    async def _post(
        self,
        tx: Tx,
        case: Case,
        kind: PostKind,
        *,
        text: str,
        author: str,
        citizen: Citizen | None = None,
        message: Message | None = None,
        about: str | None = None,
    ) -> None:
        """Queue a post into the case's current department thread."""
        if case.department is None:
            return
        if citizen is None:
            citizen = await tx.citizen_by_id(case.citizen_id)
            assert citizen is not None  # noqa: S101  # a case's citizen row is never deleted
        department = self._directory[case.department]
        attachments = message.attachments if message else ()
        body = ThreadPost(kind, self._card(case, citizen, department), text, author, attachments, about)
        await tx.enqueue(
            case_id=case.id,
            side=Side.DEPARTMENT,
            lane=department_lane(case),
            target=department.home,
            body=body,
            message_id=message.id if message else None,
            in_case_thread=True,
        )

    async def _system(self, tx: Tx, case: Case, line: str) -> None:
        await tx.add_message(case_id=case.id, direction=Direction.SYSTEM, author="bridge", text=line)
        await self._post(tx, case, PostKind.SYSTEM, text=line, author="bridge")

    async def _update_root(self, tx: Tx, case: Case) -> None:
        await self._post(tx, case, PostKind.ROOT_UPDATE, text="", author="bridge")

    async def _tell(self, tx: Tx, chat: Address, case: Case | None, kind: ReplyKind, text: str) -> None:
        """Queue a message from the bridge to a citizen chat."""
        reference = case.reference if case else ""
        await tx.enqueue(
            case_id=case.id if case else None,
            side=Side.CITIZEN,
            lane=citizen_lane(chat),
            target=chat,
            body=CitizenReply(kind, text, reference),
        )


__all__ = ["OTHER", "Decision", "DepartmentKey", "Limits", "Relay", "Router"]
