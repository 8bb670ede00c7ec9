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
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from adapters.web import pages
from adapters.web.base import WebChannel
from adapters.web.live import Hub
from adapters.web.security import RateLimiter, derive, new_token, protect, same, set_cookie
from bot.departments import Department, Directory
from bot.desk_users import DeskUsers, UsersFileError
from bot.events import InboundEvent, StaffAction, StaffActionKind, StaffMessage
from bot.model import DESK, Address, DepartmentKey, Outgoing, Platform, PostKind, Sent, ThreadPost
from bot.notes import as_internal_note
from bot.privacy import AuditRecorder
from bot.views import ConversationViews

log = logging.getLogger(__name__)

COOKIE = "cb_desk"
#: A desk sign-in lasts this long; then staff sign in again.
SESSION_SECONDS = 12 * 3600
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
}


@dataclass(frozen=True, slots=True)
class _Session:
    """A browser's desk session: signed in as ``username``, or not yet (None)."""

    username: str | None
    expires: float


@dataclass(frozen=True, slots=True)
class Staff:
    """Who is using the desk for this request, and which departments they see."""

    name: str
    departments: tuple[str, ...] | None
    token: str
    signed_in: bool

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        return derive(self.token, "desk-csrf")


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

    def __init__(
        self,
        *,
        views: ConversationViews,
        directory: Directory,
        users: DeskUsers,
        loopback: bool,
        max_message_chars: int,
        login_limiter: RateLimiter,
        hub: Hub | None = None,
        clock: Callable[[], float] = time.time,
        audit: AuditRecorder | None = None,
    ) -> None:
        super().__init__(hub=hub)
        self._audit = audit
        self._views = views
        self._directory = directory
        self._users = users
        self._loopback = loopback
        self._max_chars = max_message_chars
        self._login_limiter = login_limiter
        self._clock = clock
        self._sessions: dict[str, _Session] = {}

    @property
    def platform(self) -> Platform:
        """``desk``."""
        return DESK

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        """Open a case's desk thread (ROOT) or tell open desk pages that a case changed."""
        body = out.body
        reference = body.card.reference
        self._hub.publish(_channel(out.target.chat), {"type": "case", "reference": reference, "kind": body.kind.value})
        if body.kind is PostKind.ROOT:
            return Sent(message_id=f"{reference}:root", thread=reference)
        return Sent(message_id=out.idempotency_key or uuid.uuid4().hex)

    def _add_routes(self, app: web.Application) -> None:
        """Add the ``/desk`` pages, its sign-in and its live stream."""
        app.router.add_get("/desk", self._guarded(self._list))
        app.router.add_get("/desk/", self._guarded(self._list))
        app.router.add_get("/desk/login", self._login_form)
        app.router.add_post("/desk/login", self._login)
        app.router.add_post("/desk/logout", self._logout)
        app.router.add_get("/desk/events", self._guarded(self._events))
        app.router.add_get("/desk/case/{reference}", self._guarded(self._case))
        app.router.add_post("/desk/case/{reference}", self._guarded(self._act))

    # --- who is asking --------------------------------------------------------------------

    def _open_access(self) -> bool:
        return not self._users.any()

    def _banner(self) -> str | None:
        if self._open_access():
            return (
                "No desk users are configured, so the desk needs no sign-in: it answers only on this computer "
                "(the bridge listens on a loopback address). Add a user with `civic-bridge desk add-user NAME` "
                "before serving it to a network."
            )
        return None

    def _session(self, request: web.Request) -> tuple[str, _Session] | None:
        token = request.cookies.get(COOKIE)
        if token is None or not _TOKEN.match(token):
            return None
        session = self._sessions.get(token)
        if session is None or session.expires < self._clock():
            self._sessions.pop(token, None)
            return None
        return token, session

    def _new_session(self, username: str | None) -> str:
        now = self._clock()
        for token in [t for t, s in self._sessions.items() if s.expires < now]:
            del self._sessions[token]
        token = new_token()
        self._sessions[token] = _Session(username, now + SESSION_SECONDS)
        return token

    def _set_session_cookie(self, response: web.StreamResponse, request: web.Request, token: str) -> None:
        set_cookie(response, request, COOKIE, token, same_site="Strict", max_age=SESSION_SECONDS, path="/desk")

    def _staff(self, request: web.Request) -> Staff | web.Response:
        """Who this request comes from, or the response that turns them away."""
        try:
            open_access = self._open_access()
        except UsersFileError as error:
            log.error("desk: %s", error)  # noqa: TRY400  # the message says what to fix; no traceback needed
            frame = pages.Frame("Desk unavailable")
            return _page(pages.message_page(frame, "The desk is unavailable", str(error)), status=500)
        found = self._session(request)
        if open_access:
            if not self._loopback:
                text = (
                    "The desk has no users and this bridge listens on a network address, so the desk is closed. "
                    "Add a user on the server with `civic-bridge desk add-user NAME`, then reload this page."
                )
                return _page(pages.message_page(pages.Frame("Desk closed"), "The desk is closed", text), status=403)
            token = found[0] if found else self._new_session(None)
            return Staff(LOCAL_USER, None, token, signed_in=False)
        if found is None or found[1].username is None:
            return _redirect(f"/desk/login?next={quote(request.path_qs, safe='')}")
        user = self._users.get(found[1].username)
        if user is None:  # removed from the users file since signing in
            self._sessions.pop(found[0], None)
            return _redirect("/desk/login")
        return Staff(user.username, user.departments, found[0], signed_in=True)

    def _guarded(
        self, handler: Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            staff = self._staff(request)
            if isinstance(staff, web.Response):
                return staff
            response = await handler(request, staff)
            if request.cookies.get(COOKIE) != staff.token and not response.prepared:
                self._set_session_cookie(response, request, staff.token)
            return response

        return guarded

    def _departments(self, staff: Staff) -> list[Department]:
        """The desk departments this person works for."""
        return [
            d
            for d in self._directory.departments
            if d.home.platform == DESK and (staff.departments is None or d.key in staff.departments)
        ]

    def _frame(self, staff: Staff, title: str, *, page: str = "desk", reference: str | None = None) -> pages.Frame:
        return pages.Frame(
            title,
            user=staff.name if staff.signed_in else None,
            banner=self._banner(),
            csrf=staff.csrf if staff.signed_in else None,
            page=page,
            reference=reference,
        )

    # --- pages ------------------------------------------------------------------------------

    async def _list(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        departments = self._departments(staff)
        summaries = await self._views.case_summaries(tuple(d.key for d in departments))
        message = pages.notice(request.query.get("done"), request.query.get("error"))
        return _page(pages.case_list(self._frame(staff, "Cases", page="list"), departments, summaries, message))

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
        forms = pages.CaseForms(
            csrf=staff.csrf,
            event_id=str(uuid.uuid4()),
            can_act=True,
            departments=[d for d in self._directory.departments if d.key != view.case.department],
        )
        message = pages.notice(request.query.get("done"), request.query.get("error"))
        frame = self._frame(staff, f"Case {reference}", page="case", reference=reference)
        return _page(pages.case_page(frame, view, mine[view.case.department], forms, message))

    async def _events(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        channels = tuple(_channel(d.key) for d in self._departments(staff))
        return await self._hub.stream(request, channels, decorate=protect)

    # --- acting on a case -------------------------------------------------------------------

    async def _act(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        form = await request.post()
        if not same(_field(form, "csrf"), staff.csrf):
            text = "This form has expired or did not come from the desk. Go back, reload the page and try again."
            return _page(pages.message_page(self._frame(staff, "Expired"), "Please try again", text), status=403)
        reference = request.match_info["reference"]
        view = await self._views.case_view(reference)
        if view is None or view.case.department not in {d.key for d in self._departments(staff)}:
            return _page(pages.message_page(self._frame(staff, "Not found"), "Case not found", ""), status=404)
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
        return _redirect(f"{back}?done={what}")

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
            return StaffMessage(scoped, thread, actor_id, staff.name, text, source_id=event_id)
        if what not in _ACTIONS:
            return "unknown_action"
        department = _field(form, "department") or None
        reason = " ".join((_field(form, "reason") or "").split())[: self._max_chars] or None
        missing = {"transfer": ("no_department", department), "keep": ("no_reason", reason)}.get(what)
        if missing is not None and missing[1] is None:
            return missing[0]
        key = DepartmentKey(department) if department else None
        return StaffAction(scoped, thread, actor_id, staff.name, _ACTIONS[what], key, reason=reason)

    # --- signing in and out ----------------------------------------------------------------

    async def _login_form(self, request: web.Request) -> web.StreamResponse:
        if self._open_access():
            return _redirect("/desk")
        found = self._session(request)
        token = found[0] if found else self._new_session(None)
        next_path = _safe_next(request.query.get("next"))
        frame = pages.Frame("Sign in", banner=None)
        body = pages.login_page(frame, csrf=derive(token, "desk-csrf"), next_path=next_path, error=None)
        response = _page(body)
        self._set_session_cookie(response, request, token)
        return response

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        found = self._session(request)
        next_path = _safe_next(_field(form, "next"))
        if found is None or not same(_field(form, "csrf"), derive(found[0], "desk-csrf")):
            return _redirect(f"/desk/login?next={quote(next_path, safe='')}")
        username = (_field(form, "username") or "").strip()
        password = _field(form, "password") or ""
        peer = request.remote or "?"
        for key in (f"user:{username}", f"peer:{peer}"):
            verdict = self._login_limiter.hit(key)
            if not verdict.allowed:
                text = f"Too many sign-in attempts. Wait {verdict.retry_after} seconds and try again."
                body = pages.login_page(
                    pages.Frame("Sign in"), csrf=derive(found[0], "desk-csrf"), next_path=next_path, error=text
                )
                response = _page(body, status=429)
                response.headers["Retry-After"] = str(verdict.retry_after)
                return response
        user = self._users.authenticate(username, password)
        if user is None:
            log.info("desk: a sign-in failed")
            body = pages.login_page(
                pages.Frame("Sign in"),
                csrf=derive(found[0], "desk-csrf"),
                next_path=next_path,
                error="Wrong username or password.",
            )
            return _page(body, status=401)
        del self._sessions[found[0]]  # a fresh token on sign-in: a planted cookie never becomes a session
        token = self._new_session(user.username)
        log.info("desk: a user signed in")
        if self._audit is not None:
            await self._audit(user.username, "desk_sign_in", None)
        response = _redirect(next_path)
        self._set_session_cookie(response, request, token)
        return response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        found = self._session(request)
        if found is not None and same(_field(form, "csrf"), derive(found[0], "desk-csrf")):
            del self._sessions[found[0]]
        response = _redirect("/desk/login")
        response.del_cookie(COOKIE, path="/desk")
        return response


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
