"""Who is using the web desk: sign-in and sign-out, the one-time link, desk sessions, and the guard on every page.

A desk session is a database row (``bot.sessions``) named by a cookie, so it
counts in every process. ``DeskSignIn.guarded`` wraps every other desk page:
it finds the ``Staff`` behind a request or sends them to sign in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from aiohttp import web

from adapters.web import pages
from adapters.web.security import derive, new_token, protect, same, set_cookie
from bot.client_address import TrustedProxies, client_address
from bot.desk_users import DeskUser, DeskUsers, UsersFileError
from bot.privacy import AuditRecorder
from bot.sessions import LINK_ADMIN, SIGN_IN_LINK_PATH, SessionKind, WebSessions, limit_key

log = logging.getLogger("adapters.web.desk")  # the desk's logger name from before the split: log filters keep working

COOKIE = "cb_desk"
#: A cookie that only ties the sign-in form to the browser that loaded it (no session is created for it).
LOGIN_COOKIE = "cb_desk_login"
#: A desk sign-in lasts this long unless configured otherwise; then staff sign in again.
SESSION_SECONDS = 12 * 3600
#: The name shown for the administrator who signed in with the one-time link (no users exist yet).
LOCAL_USER = "Staff"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
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


Handler = Callable[[web.Request, Staff], Awaitable[web.StreamResponse]]


def password_proof(password_hash: str) -> str:
    """A fingerprint of a user's password hash kept with their sessions: a new password ends them."""
    return derive(password_hash, "desk-password")


def banner(staff: Staff) -> str | None:
    """The line atop every page of a session opened with the one-time link; None for a desk user."""
    if staff.by_link:
        return (
            "You signed in with the one-time link, because the desk has no users yet. Add a user on the server "
            "with `civic-bridge desk add-user NAME`: from then on everyone signs in with a password, "
            "and this session ends."
        )
    return None


def html_page(body: str, *, status: int = 200) -> web.Response:
    """A desk page: never cached, with the desk's security headers."""
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers["Cache-Control"] = "no-store"
    protect(response)
    return response


def redirect(location: str) -> web.Response:
    """A 303 to another desk page (after a form, or to sign in)."""
    response = web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})
    protect(response)
    return response


def form_field(form: object, name: str) -> str | None:
    """A posted form's text field, or None if it is missing or a file."""
    value = form.get(name) if hasattr(form, "get") else None
    return value if isinstance(value, str) else None


class DeskSignIn:
    """The desk's sign-in pages and sessions: a password per desk user, or the one-time link while there are none."""

    def __init__(
        self,
        *,
        users: DeskUsers,
        sessions: WebSessions,
        limits: SignInLimits,
        lifetime: timedelta,
        trusted_proxies: TrustedProxies,
        audit: AuditRecorder | None,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._limits = limits
        self._lifetime = lifetime
        self._trusted = trusted_proxies
        self._audit = audit

    def add_routes(self, app: web.Application) -> None:
        """Add the sign-in form, sign-out and the one-time link (these pages need no session)."""
        app.router.add_get("/desk/login", self._login_form)
        app.router.add_post("/desk/login", self._login)
        app.router.add_post("/desk/logout", self._logout)
        app.router.add_get(SIGN_IN_LINK_PATH + "{token}", self._sign_in_link)

    def guarded(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """``handler`` behind the sign-in: it runs only for a request with a live desk session."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            staff = await self._staff(request)
            if isinstance(staff, web.Response):
                return staff
            return await handler(request, staff)

        return guarded

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
            return html_page(pages.message_page(frame, "The desk is unavailable", str(error)), status=500)
        sign_in = redirect(f"/desk/login?next={quote(request.path_qs, safe='')}")
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

    async def _open_session(self, request: web.Request, response: web.StreamResponse, subject: str, proof: str) -> None:
        """A new session in the database, its cookie on ``response`` (a fresh token: a planted one never counts)."""
        token = new_token()
        await self._sessions.open(SessionKind.DESK, token, subject=subject, lifetime=self._lifetime, proof=proof)
        max_age = int(self._lifetime.total_seconds())
        set_cookie(response, request, COOKIE, token, same_site="Strict", max_age=max_age, path="/desk")
        response.del_cookie(LOGIN_COOKIE, path="/desk")

    async def _login_form(self, request: web.Request) -> web.StreamResponse:
        try:
            no_users = not self._users.any()
        except UsersFileError as error:
            return html_page(
                pages.message_page(pages.Frame("Desk unavailable"), "The desk is unavailable", str(error)), status=500
            )
        if no_users:
            frame = pages.Frame("Sign in")
            return html_page(pages.message_page(frame, "Sign in with the link from the log", _NO_USERS))
        form_token = request.cookies.get(LOGIN_COOKIE)
        if form_token is None or not _TOKEN.match(form_token):
            form_token = new_token()
        next_path = _safe_next(request.query.get("next"))
        body = pages.login_page(pages.Frame("Sign in"), csrf=_login_csrf(form_token), next_path=next_path, error=None)
        response = html_page(body)
        set_cookie(response, request, LOGIN_COOKIE, form_token, same_site="Strict", max_age=3600, path="/desk")
        return response

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        next_path = _safe_next(form_field(form, "next"))
        form_token = request.cookies.get(LOGIN_COOKIE)
        if form_token is None or not same(form_field(form, "csrf"), _login_csrf(form_token)):
            return redirect(f"/desk/login?next={quote(next_path, safe='')}")
        username = (form_field(form, "username") or "").strip()
        password = form_field(form, "password") or ""
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
        response = redirect(next_path)
        await self._open_session(request, response, user.username, password_proof(user.password_hash))
        return response

    def _login_again(self, form_token: str, next_path: str, error: str, *, status: int) -> web.Response:
        body = pages.login_page(pages.Frame("Sign in"), csrf=_login_csrf(form_token), next_path=next_path, error=error)
        return html_page(body, status=status)

    async def _sign_in_link(self, request: web.Request) -> web.StreamResponse:
        """The one-time link: while the desk has no users, its first use opens an admin session; never again."""
        token = request.match_info["token"]
        if not _TOKEN.match(token) or self._users.any() or not await self._sessions.take(SessionKind.DESK_LINK, token):
            text = (
                "This sign-in link was used already, has expired, or the desk has users now. "
                "Restart the bridge for a new link, or sign in with a desk user."
            )
            return html_page(pages.message_page(pages.Frame("Sign in"), "This link no longer works", text), status=403)
        log.info("desk: the one-time sign-in link was used")
        response = redirect("/desk")
        await self._open_session(request, response, LINK_ADMIN, "")
        return response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = self._cookie_token(request)
        if token is not None and same(form_field(form, "csrf"), derive(token, "desk-csrf")):
            await self._sessions.end(SessionKind.DESK, token)  # in every process: the row is gone
        response = redirect("/desk/login")
        response.del_cookie(COOKIE, path="/desk")
        return response


def _login_csrf(form_token: str) -> str:
    return derive(form_token, "desk-login-csrf")


def _safe_next(value: str | None) -> str:
    """Only a desk path of ours: a sign-in never redirects to another site."""
    if value and value.startswith("/desk") and "//" not in value and "\\" not in value:
        return value
    return "/desk"
