"""The web desk's case work: the inbox, a case's page, and the forms that reply, note and act on a case.

A form becomes a relay event (``StaffMessage`` or ``StaffAction``) exactly as a
Slack thread's words or buttons would; only departments answering on the desk
can act here, an admin sees the others read-only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Protocol
from urllib.parse import quote

from aiohttp import web

from adapters.web import pages
from adapters.web.desk_auth import Staff, form_field, html_page, redirect
from adapters.web.inbox import InboxChoice, earlier_cases, inbox_page
from adapters.web.security import derive, same
from bot.departments import Department, Directory
from bot.events import InboundEvent, StaffAction, StaffActionKind, StaffMessage
from bot.model import DESK, Address, DepartmentKey
from bot.notes import as_internal_note, is_internal_note
from bot.ports import InboundSink
from bot.privacy import AuditRecorder
from bot.saved_answers import AnswerBook
from bot.views import CaseView, ConversationViews, InboxQuery

Handler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]
Guard = Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]


class FrameOf(Protocol):
    """The desk's page frame for this person (its bar, banner and form token)."""

    def __call__(self, staff: Staff, title: str, *, page: str = ..., reference: str | None = ...) -> pages.Frame:
        """The frame of a page titled ``title``."""
        ...


_EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ACTIONS = {
    "close": StaffActionKind.CLOSE,
    "reopen": StaffActionKind.REOPEN,
    "claim": StaffActionKind.CLAIM,
    "transfer": StaffActionKind.TRANSFER,
    "erase": StaffActionKind.ERASE,
    "keep": StaffActionKind.KEEP,
    "answer": StaffActionKind.ANSWER,
}


def visible_departments(staff: Staff, directory: Directory) -> list[Department]:
    """The departments whose cases this person sees: an admin every one; staff their desk departments."""
    if staff.admin:
        return list(directory.departments)
    return [
        d
        for d in directory.departments
        if d.home.platform == DESK and (staff.departments is None or d.key in staff.departments)
    ]


class DeskCases:
    """The inbox and case pages, and the case forms handed to the relay (through ``sink``, once it listens)."""

    def __init__(  # each is a distinct dependency, injected
        self,
        *,
        views: ConversationViews,
        directory: Directory,
        answers: AnswerBook,
        max_message_chars: int,
        zone: tzinfo,
        frame: FrameOf,
        sink: Callable[[], InboundSink | None],
        audit: AuditRecorder | None,
    ) -> None:
        self._views = views
        self._directory = directory
        self._answers = answers
        self._max_chars = max_message_chars
        self._zone = zone
        self._frame = frame
        self._sink = sink
        self._audit = audit

    def add_routes(self, app: web.Application, *, guard: Guard) -> None:
        """Add the inbox (``/desk``) and each case's page and form, behind the desk's sign-in (``guard``)."""
        app.router.add_get("/desk", guard(self._list))
        app.router.add_get("/desk/", guard(self._list))
        app.router.add_get("/desk/case/{reference}", guard(self._case))
        app.router.add_post("/desk/case/{reference}", guard(self._act))

    def _departments(self, staff: Staff) -> list[Department]:
        return visible_departments(staff, self._directory)

    # --- pages ------------------------------------------------------------------------------

    async def _list(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        """The inbox: one view (open, mine, unassigned, overdue, closed) of some departments, maybe searched."""
        departments = self._departments(staff)
        overdue_shown = any(d.first_response is not None for d in departments)
        choice = InboxChoice.parse(request.query, departments, overdue_shown=overdue_shown)
        chosen = DepartmentKey(choice.department) if choice.department is not None else None
        query = InboxQuery(
            tuple(d.key for d in departments), choice.view, chosen, officer=staff.shown_name, search=choice.search
        )
        inbox = await self._views.inbox(query)
        if choice.search and self._audit is not None:
            # Who searched, never what for: a search may hold a citizen's name (the audit trail holds no text).
            await self._audit(staff.name, "desk_search", None)
        message = pages.notice(request.query.get("done"), request.query.get("error"))
        frame = self._frame(staff, "Cases", page="list")
        return html_page(inbox_page(frame, departments, inbox, choice, overdue_shown=overdue_shown, message=message))

    async def _case(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        reference = request.match_info["reference"]
        view = await self._views.case_view(reference)
        mine = {d.key: d for d in self._departments(staff)}
        if view is None or view.case.department not in mine:
            frame = self._frame(staff, "Not found")
            text = "There is no such case among your departments' cases."
            return html_page(pages.message_page(frame, "Case not found", text), status=404)
        if self._audit is not None:
            await self._audit(staff.name, "desk_view", reference)
        department = mine[view.case.department]
        forms = pages.CaseForms(
            csrf=staff.csrf,
            event_id=str(uuid.uuid4()),
            can_act=department.home.platform == DESK,
            departments=[d for d in self._directory.departments if d.key != view.case.department],
            answers=self._answers.for_department(view.case.department),
            claimed_by_you=view.case.claimed_by == staff.shown_name,
        )
        message = pages.notice(request.query.get("done"), request.query.get("error"))
        frame = self._frame(staff, f"Case {reference}", page="case", reference=reference)
        shown = [c for c in view.earlier if c.department in mine]
        names: dict[str, str] = {key: d.name for key, d in mine.items()}
        aside = earlier_cases(shown, names, self._zone, hidden=len(view.earlier) - len(shown))
        return html_page(pages.case_page(frame, view, department, forms, message, aside=aside))

    # --- acting on a case -------------------------------------------------------------------

    async def _act(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        form = await request.post()
        if not same(form_field(form, "csrf"), staff.csrf):
            text = "This form has expired or did not come from the desk. Go back, reload the page and try again."
            return html_page(pages.message_page(self._frame(staff, "Expired"), "Please try again", text), status=403)
        reference = request.match_info["reference"]
        view = await self._workable(reference, staff)
        if isinstance(view, web.Response):
            return view
        back = f"/desk/case/{quote(reference)}"
        thread = view.case.thread
        event_id = form_field(form, "event_id") or ""
        sink = self._sink()
        if thread is None or thread.platform != DESK or sink is None or not _EVENT_ID.match(event_id):
            return redirect(f"{back}?error=not_ready")
        what = form_field(form, "do") or ""
        event = self._event(what, form, staff, thread, event_id)
        if isinstance(event, str):
            return redirect(f"{back}?error={event}")
        await sink.accept(event)
        if what == "transfer":
            return redirect("/desk?done=transfer")
        if isinstance(event, StaffMessage) and is_internal_note(event.text):
            what = "note"  # a reply that starts with "note:" is saved as a note: say so
        return redirect(f"{back}?done={what}")

    async def _workable(self, reference: str, staff: Staff) -> CaseView | web.Response:
        """The case this user may act on, or the refusal: 404 outside their departments, 403 for a Slack case."""
        view = await self._views.case_view(reference)
        department = (
            next((d for d in self._departments(staff) if d.key == view.case.department), None) if view else None
        )
        if view is None or department is None:
            return html_page(pages.message_page(self._frame(staff, "Not found"), "Case not found", ""), status=404)
        if department.home.platform != DESK:
            text = "This case is answered in its department's Slack channel; the desk shows it read-only."
            return html_page(pages.message_page(self._frame(staff, "Read-only"), "Answer in Slack", text), status=403)
        return view

    def _event(self, what: str, form: object, staff: Staff, thread: Address, event_id: str) -> InboundEvent | str:
        """The relay event a desk form asks for, or the key of the error to show."""
        scoped = f"{derive(staff.token, 'desk-events')[:16]}:{event_id}"
        actor_id = f"desk:{staff.name}"
        if what in {"reply", "note"}:
            text = (form_field(form, "text") or "").strip()
            if not text:
                return "empty"
            if len(text) > self._max_chars:
                return "too_long"
            if what == "note":
                text = as_internal_note(text)
            return StaffMessage(scoped, thread, actor_id, staff.shown_name, text, source_id=event_id)
        if what not in _ACTIONS:
            return "unknown_action"
        department = form_field(form, "department") or None
        reason = " ".join((form_field(form, "reason") or "").split())[: self._max_chars] or None
        answer = (form_field(form, "answer") or None) if what == "answer" else None
        missing = {
            "transfer": ("no_department", department),
            "keep": ("no_reason", reason),
            "answer": ("no_answer", answer),
        }.get(what)
        if missing is not None and missing[1] is None:
            return missing[0]
        key = DepartmentKey(department) if department else None
        return StaffAction(
            scoped, thread, actor_id, staff.shown_name, _ACTIONS[what], key, reason=reason, answer=answer
        )
