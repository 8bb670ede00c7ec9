"""The built-in web channels: the citizen web chat (platform ``web``) and the department web desk (``desk``).

Both are served by the bridge's own HTTP server and are always enabled, so a
bridge with no platform credentials at all is still usable in a browser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

from adapters.web.chat import WebChat
from adapters.web.desk import SignInLimits, WebDesk
from adapters.web.live import StreamCaps
from adapters.web.security import RateLimiter
from adapters.web.static_files import StaticFiles
from bot.consultations.publishing import StaffConsultations
from bot.departments import Directory
from bot.desk_users import DeskUsers
from bot.live import LiveEvents
from bot.privacy import AuditRecorder
from bot.privacy_notice import PrivacyNotice
from bot.reports.model import ReportsReader
from bot.saved_answers import AnswerBook
from bot.sessions import WebSessions
from bot.speech import Languages
from bot.views import ConversationViews
from config.settings import Settings


def from_settings(
    settings: Settings,
    *,
    directory: Directory,
    views: ConversationViews,
    sessions: WebSessions,
    live: LiveEvents,
    languages: Languages | None = None,
    consultations: StaffConsultations | None = None,
    notice: Callable[[str | None], str] | None = None,
    audit: AuditRecorder | None = None,
    answers: AnswerBook | None = None,
    reports: ReportsReader | None = None,
) -> tuple[WebChat, WebDesk]:
    """The web chat (a citizen channel) and the web desk (a department channel), configured from ``settings``."""
    static = StaticFiles.load()
    caps = StreamCaps(
        per_session=settings.live_streams_per_session,
        per_address=settings.live_streams_per_address,
        total=settings.live_streams_total,
    )
    chat = WebChat(
        notice=notice or PrivacyNotice().text,
        views=views,
        directory=directory,
        max_message_chars=settings.max_message_chars,
        limiter=RateLimiter(limit=settings.chat_messages_per_minute, window=60.0),
        address_limiter=RateLimiter(limit=settings.chat_messages_per_address, window=60.0),
        session_limiter=RateLimiter(limit=settings.chat_sessions_per_address, window=60.0),
        static=static,
        languages=languages,
        sessions=sessions,
        trusted_proxies=settings.trusted_proxies,
        live=live,
        caps=caps,
    )
    desk = WebDesk(
        views=views,
        directory=directory,
        users=DeskUsers(path=settings.desk_users_file),
        consultations=consultations,
        sessions=sessions,
        max_message_chars=settings.max_message_chars,
        sign_in_limits=SignInLimits(
            per_user=settings.desk_sign_ins_per_user, per_address=settings.desk_sign_ins_per_address
        ),
        session_lifetime=timedelta(hours=settings.desk_session_hours),
        trusted_proxies=settings.trusted_proxies,
        live=live,
        caps=caps,
        audit=audit,
        answers=answers,
        zone=languages.zone if languages is not None else UTC,
        reports=reports,
    )
    return chat, desk


__all__ = ["DeskUsers", "WebChat", "WebDesk", "from_settings"]
