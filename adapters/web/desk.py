"""The web desk: where departments configured ``desk: web`` read and answer their cases.

Platform ``desk``. A department's home is ``Address(desk, department key)``;
a case's thread is ``Address(desk, department key, case reference)``. The
desk keeps no posts of its own: its pages read the conversation from the
store, and ``send`` only tells open desk pages that something changed.
Replies, notes and actions go to the relay as any Slack thread's would.

This module wires the channel: its pages live beside it, in ``desk_auth``
(sign-in, sessions), ``desk_cases`` (inbox, case page, actions),
``consultations`` and ``reports``; the live stream is here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta, tzinfo

from aiohttp import web

from adapters.web import pages
from adapters.web.base import WebChannel
from adapters.web.consultations import NAV_LINK, ConsultationPages
from adapters.web.desk_auth import SESSION_SECONDS, DeskSignIn, SignInLimits, Staff, banner, password_proof
from adapters.web.desk_cases import DeskCases, visible_departments
from adapters.web.live import StreamCaps
from adapters.web.reports import ReportPages
from adapters.web.security import protect
from bot.client_address import TrustedProxies, client_address
from bot.consultations.publishing import StaffConsultations
from bot.departments import Directory
from bot.desk_users import DeskUsers
from bot.live import LiveEvents
from bot.model import DESK, Outgoing, Platform, PostKind, Sent, ThreadPost
from bot.ports import InboundSink
from bot.privacy import AuditRecorder
from bot.reports.model import ReportsReader
from bot.saved_answers import AnswerBook, SavedAnswers
from bot.sessions import WebSessions
from bot.views import ConversationViews

# Importable from here as before the desk was split into desk_auth and desk_cases.
__all__ = ["SESSION_SECONDS", "SignInLimits", "Staff", "WebDesk", "password_proof"]


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
        self._consultations = (
            ConsultationPages(consultations=consultations, directory=directory, zone=zone, audit=audit)
            if consultations
            else None
        )
        self._directory = directory
        self._trusted = trusted_proxies
        self._sign_in = DeskSignIn(
            users=users,
            sessions=sessions,
            limits=sign_in_limits or SignInLimits(),
            lifetime=session_lifetime,
            trusted_proxies=trusted_proxies,
            audit=audit,
        )
        self._cases = DeskCases(
            views=views,
            directory=directory,
            answers=answers or SavedAnswers(),
            max_message_chars=max_message_chars,
            zone=zone,
            frame=self._frame,
            sink=self._listening,
            audit=audit,
        )

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
        guarded = self._sign_in.guarded
        self._cases.add_routes(app, guard=guarded)
        self._sign_in.add_routes(app)
        if self._consultations is not None:
            self._consultations.add_routes(app, guard=guarded, frame=self._frame, stream=self._stream_of)
        app.router.add_get("/desk/events", guarded(self._events))
        if self._reports is not None:
            self._reports.add_routes(app, guard=guarded, frame=self._frame)

    def _listening(self) -> InboundSink | None:
        """The relay, while this channel is started."""
        return self._sink

    def _frame(self, staff: Staff, title: str, *, page: str = "desk", reference: str | None = None) -> pages.Frame:
        return pages.Frame(
            title,
            user=staff.shown_name,
            banner=banner(staff),
            csrf=staff.csrf,
            links=(NAV_LINK,) if self._consultations is not None else (),
            page=page,
            reference=reference,
            zone=self._zone,
            admin=staff.admin,
        )

    # --- live stream ------------------------------------------------------------------------

    async def _events(self, request: web.Request, staff: Staff) -> web.StreamResponse:
        topics = tuple(_channel(d.key) for d in visible_departments(staff, self._directory))
        return await self._stream_of(request, staff, topics)

    async def _stream_of(self, request: web.Request, staff: Staff, topics: tuple[str, ...]) -> web.StreamResponse:
        """A live event stream of ``topics`` for this person's session (capped per session and address)."""
        return await self._hub.stream(
            request, topics, session=staff.token, address=client_address(request, self._trusted), decorate=protect
        )


def _channel(department: str) -> str:
    return f"desk:{department}"
