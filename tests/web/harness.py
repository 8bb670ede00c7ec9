"""A bridge with the real web chat and web desk, served by aiohttp's test server, and a browser-like client."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from adapters.web.chat import WebChat
from adapters.web.desk import SignInLimits, WebDesk
from adapters.web.live import StreamCaps
from adapters.web.security import RateLimiter
from adapters.web.static_files import StaticFiles
from bot.client_address import TrustedProxies
from bot.consultations.publishing import StaffConsultations
from bot.delivery import Preparation
from bot.departments import Department, Directory
from bot.desk_users import DeskRole, DeskUsers
from bot.live import LiveEvents
from bot.model import DESK, SLACK, Address, DepartmentKey
from bot.ports import RoutingPolicy
from bot.privacy import recorder
from bot.reports.queries import StoreReports
from bot.saved_answers import SavedAnswers
from bot.sessions import issue_sign_in_link
from bot.storage.store import Clock, Store
from bot.storage.views import StoreViews
from bot.storage.web_sessions import StoreSessions
from tests.bridge import Bridge, build_bridge

DESK_DIRECTORY = Directory(
    departments=(
        Department(DepartmentKey("roads"), "Roads & Transport", Address(DESK, "roads")),
        Department(DepartmentKey("waste"), "Waste & Recycling", Address(DESK, "waste")),
        Department(DepartmentKey("housing"), "Housing", Address(SLACK, "C0HOUSING")),
        Department(DepartmentKey("general"), "Citizen Services", Address(DESK, "general")),
    ),
    fallback=DepartmentKey("general"),
)

_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
_EVENT_FIELD = re.compile(r'name="event_id" value="([^"]+)"')


class FakeMonotonic:
    """A monotonic clock for rate limits, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Web:
    """The running bridge with its web adapters, and the server they are mounted on."""

    bridge: Bridge
    chat: WebChat
    desk: WebDesk
    server: TestServer
    users: DeskUsers
    rate_clock: FakeMonotonic
    sessions: StoreSessions
    clients: list[TestClient[Any, Any]] = field(default_factory=list)

    async def browser(self) -> Browser:
        """A new browser (its own cookie jar) pointed at the server."""
        client: TestClient[Any, Any] = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        return Browser(client)

    async def sign_in_link(self) -> str:
        """A one-time desk sign-in link's path, as ``civic-bridge run`` prints it while there are no users."""
        return await issue_sign_in_link(self.sessions, base_url="", lifetime=timedelta(hours=24))

    async def signed_in_staff(self) -> Browser:
        """A browser signed in to the desk with a one-time link (an admin: the desk has no users yet)."""
        browser = await self.browser()
        response = await browser.client.get(await self.sign_in_link(), allow_redirects=False)
        assert response.status == 303, await response.text()
        return browser

    async def signed_in_user(
        self, username: str, departments: tuple[str, ...] | None = None, *, role: DeskRole = DeskRole.STAFF
    ) -> Browser:
        """A browser signed in with a password as a new desk user of ``departments`` (None: every desk one)."""
        password = "correct horse battery"  # noqa: S105  # a test user's password
        self.users.add(username, password, departments, role=role)
        browser = await self.browser()
        html = await (await browser.client.get("/desk/login")).text()
        csrf = _CSRF_FIELD.search(html)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "next": "/desk", "username": username, "password": password}
        response = await browser.client.post("/desk/login", data=form, allow_redirects=False)
        assert response.status == 303, await response.text()
        return browser


class Browser:
    """What a browser does on the chat and desk pages, over plain HTTP."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.csrf = ""

    def chat_cookie(self) -> str:
        """The chat session cookie this browser holds."""
        return self.client.session.cookie_jar.filter_cookies(self.client.make_url("/"))["cb_chat"].value

    async def open_chat(self) -> ClientResponse:
        """Load ``/`` (gets the session cookie) and the history (gets the CSRF token)."""
        page = await self.client.get("/")
        assert page.status == 200
        await self.history()
        return page

    async def history(self) -> dict[str, Any]:
        """``GET /chat/history``."""
        response = await self.client.get("/chat/history")
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        self.csrf = data["csrf"]
        return data

    async def post_chat(self, path: str, payload: dict[str, Any], *, csrf: str | None = None) -> ClientResponse:
        """POST JSON to a chat endpoint with the page's CSRF header."""
        headers = {"X-CSRF-Token": self.csrf if csrf is None else csrf, "Content-Type": "application/json"}
        return await self.client.post(path, data=json.dumps(payload), headers=headers)

    async def say(self, text: str, *, event_id: str | None = None, name: str = "") -> ClientResponse:
        """The citizen sends a message."""
        payload = {"event_id": event_id or str(uuid.uuid4()), "text": text, "name": name}
        return await self.post_chat("/chat/send", payload)

    async def texts(self) -> list[str]:
        """The texts of the conversation as the chat page shows it."""
        return [item["text"] for item in (await self.history())["items"]]

    async def desk_page(self, path: str = "/desk") -> str:
        """Load a desk page; returns its HTML."""
        response = await self.client.get(path)
        assert response.status == 200, await response.text()
        return await response.text()

    async def desk_post(self, reference: str, **fields: str) -> ClientResponse:
        """Submit a form of the case page, as a browser would (CSRF and event id from the page)."""
        html = await self.desk_page(f"/desk/case/{reference}")
        csrf = _CSRF_FIELD.search(html)
        event = _EVENT_FIELD.search(html)
        assert csrf is not None
        assert event is not None
        form = {"csrf": csrf.group(1), "event_id": event.group(1), **fields}
        return await self.client.post(f"/desk/case/{reference}", data=form, allow_redirects=False)


@asynccontextmanager
async def running_web(
    store: Store,
    clock: Clock,
    tmp_path: Path,
    *,
    max_message_chars: int = 8000,
    per_minute: int = 10,
    per_address: int = 60,
    sessions_per_address: int = 10,
    sign_in_limits: SignInLimits | None = None,
    caps: StreamCaps | None = None,
    trusted_proxies: TrustedProxies = TrustedProxies(),  # noqa: B008  # an immutable value
    live: LiveEvents | None = None,
    preparation: Preparation | None = None,
    directory: Directory = DESK_DIRECTORY,
    answers: SavedAnswers | None = None,
    zone: tzinfo = UTC,
    router: RoutingPolicy | None = None,
    consultations: StaffConsultations | None = None,
) -> AsyncIterator[Web]:
    """The relay and worker with the real web chat and desk, mounted on a test server."""
    rate_clock = FakeMonotonic()
    static = StaticFiles.load()
    users = DeskUsers(path=tmp_path / "desk-users.json")
    sessions = StoreSessions(store=store)
    chat = WebChat(
        views=StoreViews(store=store),
        directory=directory,
        max_message_chars=max_message_chars,
        limiter=RateLimiter(limit=per_minute, window=60.0, clock=rate_clock),
        address_limiter=RateLimiter(limit=per_address, window=60.0, clock=rate_clock),
        session_limiter=RateLimiter(limit=sessions_per_address, window=60.0, clock=rate_clock),
        static=static,
        sessions=sessions,
        trusted_proxies=trusted_proxies,
        live=live,
        caps=caps,
    )
    desk = WebDesk(
        views=StoreViews(store=store),
        directory=directory,
        users=users,
        sessions=sessions,
        max_message_chars=max_message_chars,
        consultations=consultations,
        sign_in_limits=sign_in_limits,
        trusted_proxies=trusted_proxies,
        live=live,
        caps=caps,
        audit=recorder(store),
        answers=answers,
        zone=zone,
        reports=StoreReports(store=store),
    )
    app = web.Application()
    chat.mount(app)
    desk.mount(app)
    async with build_bridge(
        store,
        clock,
        citizen=[chat],
        department=[desk],
        directory=directory,
        max_message_chars=max_message_chars,
        preparation=preparation,
        answers=answers,
        router=router,
    ) as bridge:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        running = Web(bridge, chat, desk, server, users, rate_clock, sessions)
        try:
            yield running
        finally:
            for client in running.clients:
                await client.close()
            await server.close()
