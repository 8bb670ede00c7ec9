"""The built-in web channels: the citizen web chat (platform ``web``) and the department web desk (``desk``).

Both are served by the bridge's own HTTP server and are always enabled, so a
bridge with no platform credentials at all is still usable in a browser.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.web.chat import WebChat
from adapters.web.desk import WebDesk
from adapters.web.security import RateLimiter, is_loopback
from adapters.web.static_files import StaticFiles
from bot.departments import Directory
from bot.desk_users import DeskUsers
from bot.privacy import AuditRecorder
from bot.privacy_notice import PrivacyNotice
from bot.views import ConversationViews
from config.settings import Settings

#: A citizen may send this many messages per minute in the web chat.
CHAT_MESSAGES_PER_MINUTE = 10
#: Sign-in attempts per minute, per username and per address.
LOGINS_PER_MINUTE = 5


def from_settings(
    settings: Settings,
    *,
    directory: Directory,
    views: ConversationViews,
    notice: Callable[[str | None], str] | None = None,
    audit: AuditRecorder | None = None,
) -> tuple[WebChat, WebDesk]:
    """The web chat (a citizen channel) and the web desk (a department channel), configured from ``settings``."""
    static = StaticFiles.load()
    chat = WebChat(
        notice=notice or PrivacyNotice().text,
        views=views,
        directory=directory,
        max_message_chars=settings.max_message_chars,
        limiter=RateLimiter(limit=CHAT_MESSAGES_PER_MINUTE, window=60.0),
        static=static,
    )
    desk = WebDesk(
        views=views,
        directory=directory,
        users=DeskUsers(path=settings.desk_users_file),
        loopback=is_loopback(settings.http_host),
        max_message_chars=settings.max_message_chars,
        login_limiter=RateLimiter(limit=LOGINS_PER_MINUTE, window=60.0),
        audit=audit,
    )
    return chat, desk


__all__ = ["DeskUsers", "WebChat", "WebDesk", "from_settings"]
