"""The citizen web chat: the page at ``/``, the embeddable ``/widget.js``, and its JSON and live endpoints.

A citizen is identified by a random token in an HttpOnly cookie that the
server issued and recorded (``bot.sessions``: only its hash is stored); a
cookie the server does not know is replaced by a new session. The store only
ever sees a value derived from the token (the session id), which is both the
citizen's user id and their chat's address. Everything they do goes through
the relay like any other platform's events.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web

from adapters.web.base import WebChannel
from adapters.web.history import chat_state, citizen_item_id, reply_item
from adapters.web.live import StreamCaps
from adapters.web.security import RateLimiter, derive, is_https, new_token, protect, same, set_cookie
from adapters.web.static_files import StaticFiles
from bot import texts
from bot.client_address import TrustedProxies, client_address
from bot.departments import Directory
from bot.events import CitizenCommand, CitizenCommandKind, CitizenMessage, InboundEvent, MenuChoice, Sender
from bot.live import EventData, LiveEvents
from bot.model import WEB, Address, CitizenReply, DeliveryId, Outgoing, Platform, ReplyKind, Sent
from bot.ports import DeliveryError
from bot.privacy_notice import PrivacyNotice
from bot.service_levels import office_status
from bot.sessions import SessionKind, WebSessions
from bot.set_aside import SET_ASIDE_AFTER
from bot.speech import Languages, Voice
from bot.views import ConversationViews

log = logging.getLogger(__name__)

COOKIE = "cb_chat"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_NAME = "Web visitor"
MAX_NAME_CHARS = 100
#: A citizen's cookie lasts this long after their last visit, so they can come back to their case.
COOKIE_MAX_AGE = 180 * 24 * 3600
#: A session is kept this long after the citizen last wrote (the server's side of the cookie's life).
SESSION_KEPT = timedelta(seconds=COOKIE_MAX_AGE)
#: A session that never sent anything (a page view, a crawler) is forgotten after a day.
SESSION_UNUSED = timedelta(days=1)
_SESSION_GONE = "Your chat session has ended. Reload the page to start again."
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_EVENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: The chat page's own texts, by the key its script looks them up by (``data-t`` attributes and messages).
PAGE_TEXTS: dict[str, texts.Msg] = {
    "title": texts.WEB_TITLE,
    "heading": texts.WEB_HEADING,
    "skip": texts.WEB_SKIP,
    "idle": texts.WEB_IDLE,
    "noscript": texts.WEB_NOSCRIPT,
    "privacy_summary": texts.WEB_PRIVACY_SUMMARY,
    "conversation": texts.WEB_CONVERSATION,
    "name": texts.WEB_NAME,
    "optional": texts.WEB_OPTIONAL,
    "message": texts.WEB_MESSAGE,
    "hint": texts.WEB_HINT,
    "send": texts.WEB_SEND,
    "new_case": texts.WEB_NEW_CASE,
    "command_status": texts.COMMAND_STATUS,
    "command_help": texts.COMMAND_HELP,
    "language": texts.WEB_LANGUAGE,
    "you": texts.WEB_YOU,
    "staff": texts.WEB_STAFF,
    "service": texts.WEB_SERVICE,
    "menu_label": texts.WEB_MENU_LABEL,
    "rating_label": texts.WEB_RATING_LABEL,
    "attachments": texts.WEB_ATTACHMENTS,
    "case": texts.WEB_CASE,
    "load_failed": texts.WEB_LOAD_FAILED,
    "send_failed": texts.WEB_SEND_FAILED,
    "connection_lost": texts.WEB_CONNECTION_LOST,
    "choice_failed": texts.WEB_CHOICE_FAILED,
    "try_again": texts.WEB_TRY_AGAIN,
    "empty": texts.WEB_EMPTY,
    "too_long": texts.TOO_LONG,
    "status_open": texts.STATUS_OPEN,
    "status_pending": texts.STATUS_PENDING,
    "status_closed": texts.STATUS_CLOSED,
}
#: Consent commands typed as words: alone, or with one more word (``subscribe 2``, ``stop roads``).
_CONSENT_COMMAND = re.compile(r"^\s*(subscribe|topics|unsubscribe|stop)(?:\s+(\S+))?\s*$", re.IGNORECASE)
_CONSENT_KINDS = {
    "subscribe": CitizenCommandKind.SUBSCRIBE,
    "topics": CitizenCommandKind.TOPICS,
    "unsubscribe": CitizenCommandKind.UNSUBSCRIBE,
    "stop": CitizenCommandKind.UNSUBSCRIBE,
}
#: ``answer`` followed by an option's number or name, or a free-text answer.
_ANSWER_COMMAND = re.compile(r"^\s*answer\s+(.+)$", re.IGNORECASE | re.DOTALL)
#: A typed ``language`` command: the word alone, or with one more (``language es``, ``language español``).
_LANGUAGE_COMMAND = re.compile(r"^\s*language(?:\s+(\S+))?\s*$", re.IGNORECASE)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _engagement_command(text: str) -> tuple[CitizenCommandKind, str] | None:
    """A consent command (``stop``, ``subscribe 2``) or an ``answer …`` typed as words, with its argument."""
    if (consent := _CONSENT_COMMAND.match(text)) is not None:
        return _CONSENT_KINDS[consent.group(1).casefold()], consent.group(2) or ""
    if (answer := _ANSWER_COMMAND.match(text)) is not None:
        return CitizenCommandKind.ANSWER, answer.group(1).strip()
    return None


def _json(data: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    response = web.json_response(data, status=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    protect(response)
    return response


def _refuse(status: int, message: str, **headers: str) -> web.Response:
    return _json({"error": message}, status=status, headers=headers or None)


#: Words the web chat treats as commands when typed alone as a message.
_TYPED_COMMANDS = {
    kind.value: kind
    for kind in (
        CitizenCommandKind.START,
        CitizenCommandKind.HELP,
        CitizenCommandKind.STATUS,
        CitizenCommandKind.NEW,
        CitizenCommandKind.MYDATA,
        CitizenCommandKind.FORGET,
    )
}
#: File types the web chat shows inline (it carries no files).


class WebChat(WebChannel):
    """The web chat, a citizen channel: platform ``web``; ``send`` pushes to the citizen's open pages."""

    def __init__(
        self,
        *,
        views: ConversationViews,
        directory: Directory,
        max_message_chars: int,
        limiter: RateLimiter,
        address_limiter: RateLimiter,
        session_limiter: RateLimiter,
        static: StaticFiles,
        sessions: WebSessions,
        trusted_proxies: TrustedProxies = TrustedProxies(),  # noqa: B008  # an immutable value: "trust no proxy"
        live: LiveEvents | None = None,
        caps: StreamCaps | None = None,
        languages: Languages | None = None,
        notice: Callable[[str | None], str] | None = None,
    ) -> None:
        super().__init__(live=live, caps=caps)
        self._notice = notice or PrivacyNotice().text
        self._views = views
        self._directory = directory
        self._max_chars = max_message_chars
        self._limiter = limiter
        self._address_limiter = address_limiter
        self._session_limiter = session_limiter
        self._static = static
        self._languages = languages or Languages.english()
        self._sessions = sessions
        self._trusted = trusted_proxies

    @property
    def platform(self) -> Platform:
        """``web``."""
        return WEB

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        """Push a message to the citizen's open pages; if none is open, the history shows it later.

        A broadcast to a chat whose citizen is gone (erased, so no page can open the chat again) fails for good.
        """
        if out.body.kind is ReplyKind.BROADCAST and not await self._sessions.has_chat(out.target):
            raise DeliveryError("the web chat no longer exists", permanent=True, gone=True)
        item_id = out.idempotency_key or f"u{uuid.uuid4().hex}"
        # Ids only: the page's stream, in whichever process, reads the reply from the store.
        await self._hub.publish(_topic(out.target.chat), {"type": "message", "id": item_id})
        return Sent(message_id=item_id)

    def _render(self, session: str) -> Callable[[EventData], Awaitable[dict[str, Any] | None]]:
        """Turn an id-only event into the message item the page shows (or a plain "refresh")."""

        async def render(data: EventData) -> dict[str, Any] | None:
            item_id = str(data.get("id", ""))
            if data.get("type") == "message" and item_id[:1] == "d" and item_id[1:].isdigit():
                sent = await self._sessions.chat_reply(Address(WEB, session), DeliveryId(int(item_id[1:])))
                if sent is not None:
                    return {"type": "message", "item": reply_item(item_id, sent.reply, sent.at).to_json()}
            return {"type": "refresh"}

        return render

    def _add_routes(self, app: web.Application) -> None:
        """Add ``/``, ``/widget.js``, ``/static/…`` and ``/chat/…``."""
        app.router.add_get("/", self._page)
        app.router.add_get("/widget.js", self._widget)
        app.router.add_get("/static/{name}", self._static.handle)
        app.router.add_get("/favicon.ico", self._favicon)
        app.router.add_get("/chat/history", self._history)
        app.router.add_get("/chat/events", self._events)
        app.router.add_post("/chat/send", self._session_post(self._send_message))
        app.router.add_post("/chat/choose", self._session_post(self._choose))
        app.router.add_post("/chat/new", self._session_post(self._new_case))
        app.router.add_post("/chat/language", self._session_post(self._choose_language))

    # --- pages ------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.Response:
        token = await self._issue(request)
        if isinstance(token, web.Response):
            return token
        response = self._static.response("chat.html", frameable=True, cache=False)
        embedded = request.query.get("embed") == "1"
        if embedded and is_https(request):
            # Inside another site's iframe a Lax cookie is never sent: a partitioned one is (per embedding site).
            set_cookie(response, request, COOKIE, token, same_site="None", max_age=COOKIE_MAX_AGE, partitioned=True)
        else:
            set_cookie(response, request, COOKIE, token, same_site="Lax", max_age=COOKIE_MAX_AGE)
        return response

    async def _issue(self, request: web.Request) -> str | web.Response:
        """The browser's session token: the one it holds if the server issued it, else a new one."""
        held = _token(request)
        if held is not None:
            if await self._sessions.find(SessionKind.CHAT, held) is not None:
                return held
            chat = Address(WEB, session_of(held))
            if await self._sessions.has_chat(chat):
                # A conversation from before sessions were recorded: its cookie was issued by us then.
                await self._sessions.open(SessionKind.CHAT, held, subject=chat.chat, lifetime=SESSION_KEPT)
                return held
        verdict = self._session_limiter.hit(client_address(request, self._trusted))
        if not verdict.allowed:
            text = f"Too many new chats from your network. Please wait {verdict.retry_after} seconds and reload."
            response = web.Response(text=text, status=429, headers={"Retry-After": str(verdict.retry_after)})
            protect(response)
            return response
        token = new_token()
        await self._sessions.open(SessionKind.CHAT, token, subject=session_of(token), lifetime=SESSION_UNUSED)
        return token

    async def _session(self, request: web.Request, *, wrote: bool = False) -> tuple[str, str] | None:
        """The cookie's token and the session id, when the server issued that cookie and it has not expired.

        A session that ``wrote`` is kept for ``SESSION_KEPT`` from now (at most one write a day).
        """
        token = _token(request)
        if token is None:
            return None
        record = await self._sessions.find(SessionKind.CHAT, token)
        if record is None:
            return None
        if wrote and record.expires_at < self._sessions.now() + SESSION_KEPT - timedelta(days=1):
            await self._sessions.extend(SessionKind.CHAT, token, lifetime=SESSION_KEPT)
        return token, record.subject

    async def _widget(self, _request: web.Request) -> web.Response:
        return self._static.response("widget.js")

    async def _favicon(self, _request: web.Request) -> web.Response:
        """``/favicon.ico``, which browsers ask for on every page: a small SVG icon rather than a 404."""
        return self._static.response("favicon.svg")

    # --- JSON and live endpoints ------------------------------------------------------

    async def _history(self, request: web.Request) -> web.Response:
        found = await self._session(request)
        if found is None:
            return _refuse(401, _SESSION_GONE)
        token, session = found
        state = await chat_state(self._views, session)
        choice = self._languages.choose_from(
            explicit=state.chosen_language,
            identified=state.case.language if state.case else None,
            locale=self._locale(request),
        )
        voice = self._languages.voice(choice.language)
        case = None
        department = None
        if state.case is not None:
            department = self._directory.get(state.case.department) if state.case.department else None
            case = {
                "reference": state.case.reference,
                "status": state.case.status.value,
                "department": voice.department(department) if department else None,
            }
        return _json(
            {
                "csrf": _csrf(token),
                "language": voice.language,
                "dir": voice.direction,
                "texts": {key: voice.template(message) for key, message in PAGE_TEXTS.items()},
                "languages": [
                    {"code": code, "name": self._languages.voice(code).language_name(code)}
                    for code in self._languages.offered
                ],
                "intro": voice.say(texts.GREETING),
                "privacy": self._notice(voice.language),
                "name": state.display_name if state.display_name not in {None, DEFAULT_NAME} else "",
                "max_chars": self._max_chars,
                "items": [item.to_json() for item in state.items],
                "case": case,
                "open_menu": state.open_menu,
                # "Open now" / "Opens Monday 9:00": the case's department, else the fallback (the general contact).
                "office": office_status(
                    voice, department or self._directory[self._directory.fallback], now=self._sessions.now()
                ),
            }
        )

    async def _events(self, request: web.Request) -> web.StreamResponse:
        found = await self._session(request)
        if found is None:
            return _refuse(401, _SESSION_GONE)
        session = found[1]
        return await self._hub.stream(
            request,
            (_topic(session),),
            session=session,
            address=client_address(request, self._trusted),
            decorate=protect,
            render=self._render(session),
        )

    def _session_post(self, action: Callable[[web.Request, str, dict[str, Any]], Awaitable[web.Response]]) -> Handler:
        """Wrap a chat action: a session, a matching CSRF token, a JSON body, the rate limit."""

        async def handler(request: web.Request) -> web.StreamResponse:
            admitted = await self._admit(request)
            if isinstance(admitted, web.Response):
                return admitted
            session, data = admitted
            verdict = self._limiter.hit(session)
            if verdict.allowed:
                verdict = self._address_limiter.hit(client_address(request, self._trusted))
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
        found = await self._session(request, wrote=True)
        if found is None:
            return _refuse(401, _SESSION_GONE)
        token, session = found
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
        return session, data

    async def _send_message(self, request: web.Request, session: str, data: dict[str, Any]) -> web.Response:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            return _refuse(400, self._voice(request).say(texts.WEB_EMPTY))
        if len(text.strip()) > self._max_chars:
            message = self._voice(request).say(texts.TOO_LONG, length=len(text.strip()), limit=self._max_chars)
            return _refuse(413, message)
        event_id = str(data["event_id"])
        if (command := _LANGUAGE_COMMAND.match(text)) is not None:
            await self._language_command(request, session, data, command.group(1) or "")
            return _json({"id": citizen_item_id(event_id)})
        if (engagement := _engagement_command(text)) is not None:  # subscribe, topics, stop, answer …
            sender = self._sender(request, session, data.get("name"))
            await self._accept(CitizenCommand(_scoped(session, event_id), sender, Address(WEB, session), *engagement))
            return _json({"id": citizen_item_id(event_id)})
        typed = _TYPED_COMMANDS.get(text.strip().casefold())
        if typed is not None:  # "help", "status", "new", "start", "mydata", "forget": commands typed as words
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
            return _refuse(400, self._voice(request).say(texts.WEB_CHOOSE_OFFERED))
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

    async def _choose_language(self, request: web.Request, session: str, data: dict[str, Any]) -> web.Response:
        """The page's language selector: the same as typing ``language <code>``."""
        language = data.get("language")
        if not isinstance(language, str) or not language or len(language) > MAX_NAME_CHARS:
            return _refuse(400, self._voice(request).say(texts.WEB_NOT_UNDERSTOOD))
        await self._language_command(request, session, data, language)
        return _json({"ok": True})

    async def _language_command(self, request: web.Request, session: str, data: dict[str, Any], argument: str) -> None:
        event = CitizenCommand(
            event_id=_scoped(session, str(data["event_id"])),
            sender=self._sender(request, session, data.get("name")),
            chat=Address(WEB, session),
            command=CitizenCommandKind.LANGUAGE,
            argument=argument,
        )
        await self._accept(event)

    def _locale(self, request: web.Request) -> str | None:
        """The language the browser asks for (``Accept-Language``): the first the office offers, else the first."""
        return self._languages.best_locale(request.headers.get("Accept-Language"))

    def _voice(self, request: web.Request) -> Voice:
        """The language of a refusal: the browser's (a refusal reads nothing stored)."""
        return self._languages.voice(
            self._languages.choose_from(explicit=None, identified=None, locale=self._locale(request)).language
        )

    async def _accept(self, event: InboundEvent) -> None:
        """Hand one event to the relay, trying it as often as the relay needs to set aside one that keeps failing.

        The page sends a refused message again under a new event id, so the tries of one event
        happen here: a message that fails every time is kept aside (``bot.set_aside``) and answered
        200 like any other, instead of a 500 on every try; only a failure to set it aside raises.
        """
        assert self._sink is not None  # noqa: S101  # checked by the wrapper before the action runs
        for attempt in range(1, SET_ASIDE_AFTER + 1):
            try:
                await self._sink.accept(event)
            except Exception as error:
                if attempt == SET_ASIDE_AFTER:
                    raise
                log.warning("web chat: event not taken in (try %d, %s); trying again", attempt, type(error).__name__)
            else:
                return

    def _sender(self, request: web.Request, session: str, name: object) -> Sender:
        given = " ".join(name.split())[:MAX_NAME_CHARS] if isinstance(name, str) else ""
        return Sender(WEB, session, given or DEFAULT_NAME, self._locale(request))


def _token(request: web.Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token if token is not None and _TOKEN.match(token) else None


def session_of(token: str) -> str:
    """The citizen's id in the store: derived from the cookie, which the store never holds."""
    return derive(token, "web-chat-session")


def _topic(session: str) -> str:
    return f"chat:{session}"


def _csrf(token: str) -> str:
    return derive(token, "web-chat-csrf")


def _scoped(session: str, event_id: str) -> str:
    """Event ids are the page's UUIDs, scoped to the session so no one can pre-empt another's."""
    return f"{session[:24]}:{event_id}"


def _page_language(request: web.Request) -> str | None:
    """The browser's first preferred language (``Accept-Language``), for the privacy notice."""
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return first or None
