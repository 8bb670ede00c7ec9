"""Web sessions the server issues (web chat, desk, the desk's one-time sign-in link) and shared rate limits.

Adapters get a ``WebSessions`` injected (the store implements it in
``bot.storage.web_sessions``): sessions live in the database, so they work in
every process and survive a restart. Only a hash of each token is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.model import Address, DeliveryId
from bot.views import SentReply


class SessionKind(StrEnum):
    """What a token opens."""

    CHAT = "chat"  # a citizen's web chat; the subject is their chat's id
    DESK = "desk"  # a signed-in desk user; the subject is the username ("" for the sign-in link's admin)
    DESK_LINK = "desk_link"  # a one-time desk sign-in link, consumed by its first use


#: Where the desk's one-time sign-in link points; the token follows.
SIGN_IN_LINK_PATH = "/desk/sign-in/"
#: The subject of a desk session opened with the one-time sign-in link (no users exist yet).
LINK_ADMIN = ""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session: whose it is, a proof of the credentials it was opened with, and when it ends."""

    subject: str
    proof: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Allowance:
    """A shared rate limit's answer: allowed, or how many seconds until the next try is."""

    allowed: bool
    retry_after: int = 0


def token_hash(token: str) -> str:
    """What the database holds instead of a token: its SHA-256 (tokens are 256-bit random, no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def limit_key(purpose: str, value: str) -> str:
    """A rate-limit key that names neither the user nor the address it counts."""
    return hashlib.sha256(f"{purpose}\0{value}".encode()).hexdigest()[:48]


class WebSessions(Protocol):
    """Server-issued sessions and rate limits shared by every process of the bridge."""

    def now(self) -> datetime:
        """The bridge's clock."""

    async def open(self, kind: SessionKind, token: str, *, subject: str, lifetime: timedelta, proof: str = "") -> None:
        """Record a new session (or sign-in link) for ``token``; expired rows are cleared on the way."""

    async def find(self, kind: SessionKind, token: str) -> SessionRecord | None:
        """The unexpired session of ``token`` (one indexed lookup), or None."""

    async def extend(self, kind: SessionKind, token: str, *, lifetime: timedelta) -> None:
        """Make the session of ``token`` last ``lifetime`` from now."""

    async def end(self, kind: SessionKind, token: str) -> None:
        """End one session, in every process."""

    async def end_all(self, kind: SessionKind, subject: str) -> int:
        """End every session of ``subject`` (a removed user); returns how many ended."""

    async def take(self, kind: SessionKind, token: str) -> bool:
        """Consume a one-time token: True for the first use before it expires, False ever after."""

    async def hit(self, key: str, *, limit: int, window: timedelta) -> Allowance:
        """Count one attempt for ``key``; refused once ``limit`` attempts fall in the current window."""

    async def has_chat(self, chat: Address) -> bool:
        """Whether a citizen writes from ``chat`` (a session from before sessions were stored)."""

    async def chat_reply(self, chat: Address, delivery_id: DeliveryId) -> SentReply | None:
        """The reply queued as ``delivery_id`` for ``chat`` (for live pages in any process), if it is one."""


async def issue_sign_in_link(sessions: WebSessions, *, base_url: str, lifetime: timedelta) -> str:
    """A new one-time desk sign-in link (``BASE/desk/sign-in/TOKEN``); the database keeps only its hash."""
    token = secrets.token_urlsafe(32)
    await sessions.open(SessionKind.DESK_LINK, token, subject=LINK_ADMIN, lifetime=lifetime)
    return f"{base_url.rstrip('/')}{SIGN_IN_LINK_PATH}{token}"
