"""The citizen web chat: the page at ``/``, the embeddable ``/widget.js``, and its JSON and live endpoints.

A citizen is identified by a random token in an HttpOnly cookie; the store
only ever sees a value derived from it (the session id), which is both the
citizen's user id and their chat's address. Everything they do goes through
the relay like any other platform's events.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from adapters.web.base import WebChannel
from adapters.web.history import chat_state, citizen_item_id, reply_item
from adapters.web.live import Hub
from adapters.web.security import RateLimiter, derive, is_https, new_token, protect, same, set_cookie
from adapters.web.static_files import StaticFiles
from bot import texts
from bot.departments import Directory
from bot.events import CitizenCommand, CitizenCommandKind, CitizenMessage, InboundEvent, MenuChoice, Sender
from bot.model import WEB, Address, CitizenReply, Outgoing, Platform, Sent
from bot.privacy_notice import PrivacyNotice
from bot.views import ConversationViews

log = logging.getLogger(__name__)

COOKIE = "cb_chat"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_NAME = "Web visitor"
MAX_NAME_CHARS = 100
#: A citizen's cookie lasts this long after their last visit, so they can come back to their case.
COOKIE_MAX_AGE = 180 * 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    response = web.json_response(data, status=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    protect(response)
    return response


def _refuse(status: int, message: str, **headers: str) -> web.Response:
    return _json({"error": message}, status=status, headers=headers or None)


#: Words the web chat treats as commands when typed alone as a message.
_TYPED_COMMANDS = {"mydata": CitizenCommandKind.MYDATA, "forget": CitizenCommandKind.FORGET}
#: File types the web chat shows inline (it carries no files).
_INLINE_TYPES = frozenset({"application/json", "text/plain"})


class WebChat(WebChannel):
    """The web chat, a citizen channel: platform ``web``; ``send`` pushes to the citizen's open pages."""

    def __init__(
        self,
        *,
        views: ConversationViews,
        directory: Directory,
        max_message_chars: int,
        limiter: RateLimiter,
        static: StaticFiles,
        hub: Hub | None = None,
        notice: Callable[[str | None], str] | None = None,
    ) -> None:
        super().__init__(hub=hub)
        self._notice = notice or PrivacyNotice().text
        self._views = views
        self._directory = directory
        self._max_chars = max_message_chars
        self._limiter = limiter
        self._static = static

    @property
    def platform(self) -> Platform:
        """``web``."""
        return WEB

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        """Push a message to the citizen's open pages; if none is open, the history shows it later."""
        item_id = out.idempotency_key or f"u{uuid.uuid4().hex}"
        item = reply_item(item_id, out.body, self._views.now())
        readable = [f.data.decode(errors="replace") for f in out.files if f.mime_type in _INLINE_TYPES]
        if readable:  # the web chat carries no files: a data copy (``mydata``) is shown in the chat itself
            item = replace(item, text="\n\n".join([item.text, *readable]))
        self._hub.publish(out.target.chat, {"type": "message", "item": item.to_json()})
        return Sent(message_id=item_id)

    def _add_routes(self, app: web.Application) -> None:
        """Add ``/``, ``/widget.js``, ``/static/…`` and ``/chat/…``."""
        app.router.add_get("/", self._page)
        app.router.add_get("/widget.js", self._widget)
        app.router.add_get("/static/{name}", self._static.handle)
        app.router.add_get("/chat/history", self._history)
        app.router.add_get("/chat/events", self._events)
        app.router.add_post("/chat/send", self._session_post(self._send_message))
        app.router.add_post("/chat/choose", self._session_post(self._choose))
        app.router.add_post("/chat/new", self._session_post(self._new_case))

    # --- pages ------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        response = self._static.response("chat.html", frameable=True, cache=False)
        token = _token(request) or new_token()
        embedded = request.query.get("embed") == "1"
        if embedded and is_https(request):
            # Inside another site's iframe a Lax cookie is never sent: a partitioned one is (per embedding site).
            set_cookie(response, request, COOKIE, token, same_site="None", max_age=COOKIE_MAX_AGE, partitioned=True)
        else:
            set_cookie(response, request, COOKIE, token, same_site="Lax", max_age=COOKIE_MAX_AGE)
        return response

    async def _widget(self, _request: web.Request) -> web.Response:
        return self._static.response("widget.js")

    # --- JSON and live endpoints ------------------------------------------------------

    async def _history(self, request: web.Request) -> web.Response:
        token = _token(request)
        if token is None:
            return _refuse(401, "Your chat session has ended. Reload the page to start again.")
        session = session_of(token)
        state = await chat_state(self._views, session)
        case = None
        if state.case is not None:
            department = self._directory.get(state.case.department) if state.case.department else None
            case = {
                "reference": state.case.reference,
                "status": state.case.status.value,
                "department": department.name if department else None,
            }
        return _json(
            {
                "csrf": _csrf(token),
                "intro": texts.GREETING,
                "privacy": self._notice(_page_language(request)),
                "name": state.display_name if state.display_name not in {None, DEFAULT_NAME} else "",
                "max_chars": self._max_chars,
                "items": [item.to_json() for item in state.items],
                "case": case,
                "open_menu": state.open_menu,
            }
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        token = _token(request)
        if token is None:
            return _refuse(401, "Your chat session has ended. Reload the page to start again.")
        return await self._hub.stream(request, (session_of(token),), decorate=protect)

    def _session_post(self, action: Callable[[web.Request, str, dict[str, Any]], Awaitable[web.Response]]) -> Handler:
        """Wrap a chat action: a session, a matching CSRF token, a JSON body, the rate limit."""

        async def handler(request: web.Request) -> web.StreamResponse:
            admitted = await self._admit(request)
            if isinstance(admitted, web.Response):
                return admitted
            session, data = admitted
            verdict = self._limiter.hit(session)
            if not verdict.allowed:
                message = (
                    f"You are sending messages too quickly. Please wait {verdict.retry_after} seconds "
                    "and send your message again."
                )
                return _refuse(429, message, **{"Retry-After": str(verdict.retry_after)})
            return await action(request, session, data)

        return handler

    async def _admit(self, request: web.Request) -> tuple[str, dict[str, Any]] | web.Response:
        """The session id and JSON body of a chat POST, or the response refusing it."""
        token = _token(request)
        if token is None:
            return _refuse(401, "Your chat session has ended. Reload the page to start again.")
        if not same(request.headers.get(CSRF_HEADER), _csrf(token)):
            return _refuse(403, "This request did not come from the chat page. Reload the page and try again.")
        if self._sink is None:
            return _refuse(503, "The chat is starting or stopping. Please try again in a moment.")
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or not _EVENT_ID.match(str(data.get("event_id", ""))):
            return _refuse(400, "The request was not understood.")
        return session_of(token), data

    async def _send_message(self, request: web.Request, session: str, data: dict[str, Any]) -> web.Response:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            return _refuse(400, "Please write a message before sending.")
        if len(text.strip()) > self._max_chars:
            message = texts.TOO_LONG.format(length=len(text.strip()), limit=self._max_chars)
            return _refuse(413, message)
        event_id = str(data["event_id"])
        typed = _TYPED_COMMANDS.get(text.strip().casefold())
        if typed is not None:  # "mydata" / "forget": the privacy requests, typed as words
            sender = self._sender(request, session, data.get("name"))
            await self._accept(CitizenCommand(_scoped(session, event_id), sender, Address(WEB, session), typed))
            return _json({"id": citizen_item_id(event_id)})
        await self._accept(
            CitizenMessage(
                event_id=_scoped(session, event_id),
                sender=self._sender(request, session, data.get("name")),
                chat=Address(WEB, session),
                text=text,
                source_id=event_id,
            )
        )
        return _json({"id": citizen_item_id(event_id)})

    async def _choose(self, request: web.Request, session: str, data: dict[str, Any]) -> web.Response:
        choice = data.get("choice")
        if not isinstance(choice, str) or not choice or len(choice) > MAX_NAME_CHARS:
            return _refuse(400, "Please choose one of the offices offered.")
        event = MenuChoice(
            event_id=_scoped(session, str(data["event_id"])),
            sender=self._sender(request, session, data.get("name")),
            chat=Address(WEB, session),
            choice=choice,
        )
        await self._accept(event)
        return _json({"ok": True})

    async def _new_case(self, request: web.Request, session: str, data: dict[str, Any]) -> web.Response:
        event = CitizenCommand(
            event_id=_scoped(session, str(data["event_id"])),
            sender=self._sender(request, session, data.get("name")),
            chat=Address(WEB, session),
            command=CitizenCommandKind.NEW,
        )
        await self._accept(event)
        return _json({"ok": True})

    async def _accept(self, event: InboundEvent) -> None:
        assert self._sink is not None  # noqa: S101  # checked by the wrapper before the action runs
        await self._sink.accept(event)

    def _sender(self, request: web.Request, session: str, name: object) -> Sender:
        given = " ".join(name.split())[:MAX_NAME_CHARS] if isinstance(name, str) else ""
        language = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].split("-")[0].strip()
        return Sender(WEB, session, given or DEFAULT_NAME, language.lower() if _LANGUAGE.match(language) else None)


def _token(request: web.Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token if token is not None and _TOKEN.match(token) else None


def session_of(token: str) -> str:
    """The citizen's id in the store: derived from the cookie, which the store never holds."""
    return derive(token, "web-chat-session")


def _csrf(token: str) -> str:
    return derive(token, "web-chat-csrf")


def _scoped(session: str, event_id: str) -> str:
    """Event ids are the page's UUIDs, scoped to the session so no one can pre-empt another's."""
    return f"{session[:24]}:{event_id}"


def _page_language(request: web.Request) -> str | None:
    """The browser's first preferred language (``Accept-Language``), for the privacy notice."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return first or None
