"""The web desk: where departments configured ``desk: web`` read and answer their cases.

Platform ``desk``. A department's home is ``Address(desk, department key)``;
a case's thread is ``Address(desk, department key, case reference)``. The
desk keeps no posts of its own: its pages read the conversation from the
store, and ``send`` only tells open desk pages that something changed.
Replies, notes and actions go to the relay as any Slack thread's would.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta, tzinfo
from urllib.parse import quote

from aiohttp import web

from adapters.web import pages
from adapters.web.base import WebChannel
from adapters.web.consultations import NAV_LINK, ConsultationPages
from adapters.web.inbox import InboxChoice, earlier_cases, inbox_page
from adapters.web.live import StreamCaps
from adapters.web.reports import ReportPages
from adapters.web.security import derive, new_token, protect, same, set_cookie
from bot.client_address import TrustedProxies, client_address
from bot.consultations.publishing import StaffConsultations
from bot.departments import Department, Directory
from bot.desk_users import DeskUser, DeskUsers, UsersFileError
from bot.events import InboundEvent, StaffAction, StaffActionKind, StaffMessage
from bot.live import LiveEvents
from bot.model import DESK, Address, DepartmentKey, Outgoing, Platform, PostKind, Sent, ThreadPost
from bot.notes import as_internal_note, is_internal_note
from bot.privacy import AuditRecorder
from bot.reports.model import ReportsReader
from bot.saved_answers import AnswerBook, SavedAnswers
from bot.sessions import LINK_ADMIN, SIGN_IN_LINK_PATH, SessionKind, WebSessions, limit_key
from bot.views import CaseView, ConversationViews, InboxQuery

log = logging.getLogger(__name__)

COOKIE = "cb_desk"
#: A cookie that only ties the sign-in form to the browser that loaded it (no session is created for it).
LOGIN_COOKIE = "cb_desk_login"
#: A desk sign-in lasts this long unless configured otherwise; then staff sign in again.
SESSION_SECONDS = 12 * 3600
#: The name shown for the administrator who signed in with the one-time link (no users exist yet).
LOCAL_USER = "Staff"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
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
_NO_USERS = (
    "The desk has no users yet. Open the one-time sign-in link that `civic-bridge run` printed in its first "
    "log lines (it works once, for a limited time; each start prints a new one), or add a user on the server "
    "with `civic-bridge desk add-user NAME`."
)


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Sign-in attempts allowed per ``window``, per username and per client address (shared by every process)."""

    per_user: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Staff:
    """Who is using the desk for this request, and which departments they see."""

    name: str
    departments: tuple[str, ...] | None
    token: str
    by_link: bool = False
    #: The name others see (``desk add-user --name``); None: the login name.
    display_name: str | None = None
    #: An admin sees every department (those answering in Slack too, read-only) and the reports.
    admin: bool = False

    @property
    def shown_name(self) -> str:
        """The name the desk acts under: the display name, else the login name."""
        return self.display_name or self.name

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        return derive(self.token, "desk-csrf")


def password_proof(password_hash: str) -> str:
    """A fingerprint of a user's password hash kept with their sessions: a new password ends them."""
    return derive(password_hash, "desk-password")


def _page(body: str, *, status: int = 200) -> web.Response:
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-store"
    protect(response)
    return response


def _redirect(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    protect(response)
    return response


class WebDesk(WebChannel):
    """The web desk, a department channel: platform ``desk``, pages under ``/desk``."""

    def __init__(  # each is a distinct dependency, injected
        self,
        *,
        views: ConversationViews,
        directory: Directory,
        users: DeskUsers,
        sessions: WebSessions,
        max_message_chars: int,
        sign_in_limits: SignInLimits | None = None,
        session_lifetime: timedelta = timedelta(seconds=SESSION_SECONDS),
        trusted_proxies: TrustedProxies = TrustedProxies(),  # noqa: B008  # an immutable value: "trust no proxy"
        live: LiveEvents | None = None,
        caps: StreamCaps | None = None,
        consultations: StaffConsultations | None = None,
        audit: AuditRecorder | None = None,
        answers: AnswerBook | None = None,
        zone: tzinfo = UTC,
        reports: ReportsReader | None = None,
    ) -> None:
        super().__init__(live=live, caps=caps)
        self._reports = (
            ReportPages(reader=reports, directory=directory, zone=zone, audit=audit) if reports is not None else None
        )
        self._zone = zone
        self._audit = audit
        self._consultations = (
            ConsultationPages(consultations=consultations, directory=directory, zone=zone, audit=audit)
            if consultations
            else None
        )
        self._answers = answers or SavedAnswers()
        self._views = views
        self._directory = directory
        self._users = users
        self._sessions = sessions
        self._max_chars = max_message_chars
        self._limits = sign_in_limits or SignInLimits()
        self._lifetime = session_lifetime
        self._trusted = trusted_proxies

    @property
    def platform(self) -> Platform:
        """``desk``."""
        return DESK

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        """Open a case's desk thread (ROOT) or tell open desk pages, in every process, that a case changed."""
        body = out.body
        reference = body.card.reference
        await self._hub.publish(
            _channel(out.target.chat), {"type": "case", "reference": reference, "kind": body.kind.value}
        )
        if body.kind is PostKind.ROOT:
            return Sent(message_id=f"{reference}:root", thread=reference)
        return Sent(message_id=out.idempotency_key or uuid.uuid4().hex)

    def _add_routes(self, app: web.Application) -> None:
        """Add the ``/desk`` pages, its sign-in (password or one-time link) and its live stream."""
        app.router.add_get("/desk", self._guarded(self._list))
        app.router.add_get("/desk/", self._guarded(self._list))
        app.router.add_get("/desk/login", self._login_form)
        app.router.add_post("/desk/login", self._login)
        app.router.add_post("/desk/logout", self._logout)
        app.router.add_get(SIGN_IN_LINK_PATH + "{token}", self._sign_in_link)
        if self._consultations is not None:
            self._consultations.add_routes(app, guard=self._guarded, frame=self._frame, stream=self._stream_of)
        app.router.add_get("/desk/events", self._guarded(self._events))
        app.router.add_get("/desk/case/{reference}", self._guarded(self._case))
        app.router.add_post("/desk/case/{reference}", self._guarded(self._act))
        if self._reports is not None:
            self._reports.add_routes(app, guard=self._guarded, frame=self._frame)

    # --- who is asking --------------------------------------------------------------------

    def _banner(self, staff: Staff) -> str | None:
        if staff.by_link:
            return (
                "You signed in with the one-time link, because the desk has no users yet. Add a user on the server "
                "with `civic-bridge desk add-user NAME`: from then on everyone signs in with a password, "
                "and this session ends."
            )
        return None

    def _cookie_token(self, request: web.Request) -> str | None:
        token = request.cookies.get(COOKIE)
        return token if token is not None and _TOKEN.match(token) else None

    async def _staff(self, request: web.Request) -> Staff | web.Response:
        """Who this request comes from, or the response that turns them away (no session is created for it)."""
        try:
            users = self._users.all()
        except UsersFileError as error:
            log.error("desk: %s", error)  # noqa: TRY400  # the message says what to fix; no traceback needed
            frame = pages.Frame("Desk unavailable")
            return _page(pages.message_page(frame, "The desk is unavailable", str(error)), status=500)
        sign_in = _redirect(f"/desk/login?next={quote(request.path_qs, safe='')}")
        token = self._cookie_token(request)
        record = await self._sessions.find(SessionKind.DESK, token) if token is not None else None
        if token is None or record is None:
            return sign_in
        if record.subject == LINK_ADMIN:
            if not users:
                return Staff(LOCAL_USER, None, token, by_link=True, admin=True)
        else:
            user = next((u for u in users if u.username == record.subject), None)
            if user is not None and record.proof == password_proof(user.password_hash):
                return Staff(user.username, user.departments, token, display_name=user.name, admin=user.is_admin)
        # The user was removed, their password changed, or users now exist (the link's session ends).
        await self._sessions.end(SessionKind.DESK, token)
        return sign_in

    def _guarded(
        self, handler: Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            staff = await self._staff(request)
            if isinstance(staff, web.Response):
                return staff
            return await handler(request, staff)

        return guarded

    async def _open_session(self, request: web.Request, response: web.StreamResponse, subject: str, proof: str) -> None:
        """A new session in the database, its cookie on ``response`` (a fresh token: a planted one never counts)."""
        token = new_token()
        await self._sessions.open(SessionKind.DESK, token, subject=subject, lifetime=self._lifetime, proof=proof)
        max_age = int(self._lifetime.total_seconds())
        set_cookie(response, request, COOKIE, token, same_site="Strict", max_age=max_age, path="/desk")
        response.del_cookie(LOGIN_COOKIE, path="/desk")

    def _departments(self, staff: Staff) -> list[Department]:
        """The departments whose cases this person sees: an admin every one; staff their desk departments."""
        if staff.admin:
            return list(self._directory.departments)
        return [
            d
            for d in self._directory.departments
            if d.home.platform == DESK and (staff.departments is None or d.key in staff.departments)
        ]

    def _frame(self, staff: Staff, title: str, *, page: str = "desk", reference: str | None = None) -> pages.Frame:
        return pages.Frame(
            title,
            user=staff.shown_name,
            banner=self._banner(staff),
            csrf=staff.csrf,
            links=(NAV_LINK,) if self._consultations is not None else (),
            page=page,
            reference=reference,
            zone=self._zone,
            admin=staff.admin,
        )

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
        return _page(inbox_page(frame, departments, inbox, choice, overdue_shown=overdue_shown, message=message))

    async def _case(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        reference = request.match_info["reference"]
        view = await self._views.case_view(reference)
        mine = {d.key: d for d in self._departments(staff)}
        if view is None or view.case.department not in mine:
            frame = self._frame(staff, "Not found")
            text = "There is no such case among your departments' cases."
            return _page(pages.message_page(frame, "Case not found", text), status=404)
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
        return _page(pages.case_page(frame, view, department, forms, message, aside=aside))

    async def _events(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        return await self._stream_of(request, staff, tuple(_channel(d.key) for d in self._departments(staff)))

    async def _stream_of(self, request: web.Request, staff: Staff, topics: tuple[str, ...]) -> web.StreamResponse:
        """A live event stream of ``topics`` for this person's session (capped per session and address)."""
        return await self._hub.stream(
            request, topics, session=staff.token, address=client_address(request, self._trusted), decorate=protect
        )

    # --- acting on a case -------------------------------------------------------------------

    async def _act(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        form = await request.post()
        if not same(_field(form, "csrf"), staff.csrf):
            text = "This form has expired or did not come from the desk. Go back, reload the page and try again."
            return _page(pages.message_page(self._frame(staff, "Expired"), "Please try again", text), status=403)
        reference = request.match_info["reference"]
        view = await self._workable(reference, staff)
        if isinstance(view, web.Response):
            return view
        back = f"/desk/case/{quote(reference)}"
        thread = view.case.thread
        event_id = _field(form, "event_id") or ""
        sink = self._sink
        if thread is None or thread.platform != DESK or sink is None or not _EVENT_ID.match(event_id):
            return _redirect(f"{back}?error=not_ready")
        what = _field(form, "do") or ""
        event = self._event(what, form, staff, thread, event_id)
        if isinstance(event, str):
            return _redirect(f"{back}?error={event}")
        await sink.accept(event)
        if what == "transfer":
            return _redirect("/desk?done=transfer")
        if isinstance(event, StaffMessage) and is_internal_note(event.text):
            what = "note"  # a reply that starts with "note:" is saved as a note: say so
        return _redirect(f"{back}?done={what}")

    async def _workable(self, reference: str, staff: Staff) -> CaseView | web.Response:
        """The case this user may act on, or the refusal: 404 outside their departments, 403 for a Slack case."""
        view = await self._views.case_view(reference)
        department = (
            next((d for d in self._departments(staff) if d.key == view.case.department), None) if view else None
        )
        if view is None or department is None:
            return _page(pages.message_page(self._frame(staff, "Not found"), "Case not found", ""), status=404)
        if department.home.platform != DESK:
            text = "This case is answered in its department's Slack channel; the desk shows it read-only."
            return _page(pages.message_page(self._frame(staff, "Read-only"), "Answer in Slack", text), status=403)
        return view

    def _event(self, what: str, form: object, staff: Staff, thread: Address, event_id: str) -> InboundEvent | str:
        """The relay event a desk form asks for, or the key of the error to show."""
        scoped = f"{derive(staff.token, 'desk-events')[:16]}:{event_id}"
        actor_id = f"desk:{staff.name}"
        if what in {"reply", "note"}:
            text = (_field(form, "text") or "").strip()
            if not text:
                return "empty"
            if len(text) > self._max_chars:
                return "too_long"
            if what == "note":
                text = as_internal_note(text)
            return StaffMessage(scoped, thread, actor_id, staff.shown_name, text, source_id=event_id)
        if what not in _ACTIONS:
            return "unknown_action"
        department = _field(form, "department") or None
        reason = " ".join((_field(form, "reason") or "").split())[: self._max_chars] or None
        answer = (_field(form, "answer") or None) if what == "answer" else None
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

    # --- signing in and out ----------------------------------------------------------------

    async def _login_form(self, request: web.Request) -> web.StreamResponse:
        try:
            no_users = not self._users.any()
        except UsersFileError as error:
            return _page(
                pages.message_page(pages.Frame("Desk unavailable"), "The desk is unavailable", str(error)), status=500
            )
        if no_users:
            return _page(pages.message_page(pages.Frame("Sign in"), "Sign in with the link from the log", _NO_USERS))
        form_token = request.cookies.get(LOGIN_COOKIE)
        if form_token is None or not _TOKEN.match(form_token):
            form_token = new_token()
        next_path = _safe_next(request.query.get("next"))
        body = pages.login_page(pages.Frame("Sign in"), csrf=_login_csrf(form_token), next_path=next_path, error=None)
        response = _page(body)
        set_cookie(response, request, LOGIN_COOKIE, form_token, same_site="Strict", max_age=3600, path="/desk")
        return response

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        next_path = _safe_next(_field(form, "next"))
        form_token = request.cookies.get(LOGIN_COOKIE)
        if form_token is None or not same(_field(form, "csrf"), _login_csrf(form_token)):
            return _redirect(f"/desk/login?next={quote(next_path, safe='')}")
        username = (_field(form, "username") or "").strip()
        password = _field(form, "password") or ""
        address = client_address(request, self._trusted)
        limits = self._limits
        for key, limit in (
            (limit_key("sign-in-user", username), limits.per_user),
            (limit_key("sign-in-address", address), limits.per_address),
        ):
            verdict = await self._sessions.hit(key, limit=limit, window=limits.window)
            if not verdict.allowed:
                text = f"Too many sign-in attempts. Wait {verdict.retry_after} seconds and try again."
                response = self._login_again(form_token, next_path, text, status=429)
                response.headers["Retry-After"] = str(verdict.retry_after)
                return response
        user: DeskUser | None = self._users.authenticate(username, password)
        if user is None:
            log.info("desk: a sign-in failed")
            return self._login_again(form_token, next_path, "Wrong username or password.", status=401)
        log.info("desk: a user signed in")
        if self._audit is not None:
            await self._audit(user.username, "desk_sign_in", None)
        response = _redirect(next_path)
        await self._open_session(request, response, user.username, password_proof(user.password_hash))
        return response

    def _login_again(self, form_token: str, next_path: str, error: str, *, status: int) -> web.Response:
        body = pages.login_page(pages.Frame("Sign in"), csrf=_login_csrf(form_token), next_path=next_path, error=error)
        return _page(body, status=status)

    async def _sign_in_link(self, request: web.Request) -> web.StreamResponse:
        """The one-time link: while the desk has no users, its first use opens an admin session; never again."""
        token = request.match_info["token"]
        if not _TOKEN.match(token) or self._users.any() or not await self._sessions.take(SessionKind.DESK_LINK, token):
            text = (
                "This sign-in link was used already, has expired, or the desk has users now. "
                "Restart the bridge for a new link, or sign in with a desk user."
            )
            return _page(pages.message_page(pages.Frame("Sign in"), "This link no longer works", text), status=403)
        log.info("desk: the one-time sign-in link was used")
        response = _redirect("/desk")
        await self._open_session(request, response, LINK_ADMIN, "")
        return response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = self._cookie_token(request)
        if token is not None and same(_field(form, "csrf"), derive(token, "desk-csrf")):
            await self._sessions.end(SessionKind.DESK, token)  # in every process: the row is gone
        response = _redirect("/desk/login")
        response.del_cookie(COOKIE, path="/desk")
        return response


def _login_csrf(form_token: str) -> str:
    return derive(form_token, "desk-login-csrf")


def _channel(department: str) -> str:
    return f"desk:{department}"


def _field(form: object, name: str) -> str | None:
    value = form.get(name) if hasattr(form, "get") else None
    return value if isinstance(value, str) else None


def _safe_next(value: str | None) -> str:
    """Only a desk path of ours: a sign-in never redirects to another site."""
    if value and value.startswith("/desk") and "//" not in value and "\\" not in value:
        return value
    return "/desk"
