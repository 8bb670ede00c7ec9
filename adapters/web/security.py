"""Web security helpers: session tokens, CSRF tokens, cookies, response headers and a rate limiter."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie

from aiohttp import web

#: Where pages may load anything from: this server only. No inline scripts or styles.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def new_token() -> str:
    """A random, unguessable session token for a cookie."""
    return secrets.token_urlsafe(32)


def derive(token: str, purpose: str) -> str:
    """A value derived from a secret token: the same token always gives the same value.

    Used for the web chat's stored session id (so the database never holds the
    cookie itself) and for CSRF tokens (bound to the session, nothing to store).
    """
    return hashlib.sha256(f"{purpose}\0{token}".encode()).hexdigest()[:40]


def same(given: str | None, expected: str) -> bool:
    """Compare a submitted token with the expected one in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def is_https(request: web.Request) -> bool:
    """Whether the browser talks https to us, directly or through a reverse proxy."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.secure or forwarded == "https"


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    *,
    same_site: str,
    max_age: int | None,
    path: str = "/",
    partitioned: bool = False,
) -> None:
    """Set an HttpOnly session cookie, Secure whenever the page is served over https."""
    secure = is_https(request) or same_site == "None"
    if not partitioned:
        response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, secure=secure, samesite=same_site)
        return
    # http.cookies before Python 3.14 rejects the Partitioned attribute (CookieError), so aiohttp cannot set it:
    # the header is written here, from a Morsel that knows every other attribute.
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = path
    morsel["httponly"] = True
    morsel["secure"] = secure
    morsel["samesite"] = same_site
    if max_age is not None:
        morsel["max-age"] = str(max_age)
    response.headers.add(
        "Set-Cookie", morsel.OutputString(["path", "httponly", "secure", "samesite", "max-age"]) + "; Partitioned"
    )


def protect(response: web.StreamResponse, *, policy: str = PAGE_POLICY, frameable: bool = False) -> None:
    """Add the headers every response of ours carries: CSP, no sniffing, no referrer, framing rules."""
    frame = "frame-ancestors *" if frameable else "frame-ancestors 'none'"
    response.headers["Content-Security-Policy"] = f"{policy}; {frame}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not frameable:
        response.headers["X-Frame-Options"] = "DENY"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A rate limiter's answer: allowed, or how many seconds until the next try is."""

    allowed: bool
    retry_after: int = 0


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key (a sliding window)."""

    def __init__(self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> Verdict:
        """Count one hit for ``key`` unless it is over the limit."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) >= self._limit:
            return Verdict(allowed=False, retry_after=max(1, math.ceil(hits[0] + self._window - now)))
        hits.append(now)
        self._forget_idle(now)
        return Verdict(allowed=True)

    def _forget_idle(self, now: float) -> None:
        """Drop keys with no recent hits, so memory stays bounded by the active sessions."""
        if len(self._hits) < 10_000:  # noqa: PLR2004  # only sweep when the table has grown
            return
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self._window]:
            del self._hits[key]
