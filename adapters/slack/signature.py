"""Slack request signing (v0): checked on the raw body before anything reads it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

#: Slack's replay window: a request signed more than five minutes away from now is refused.
MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack sends for this body and timestamp."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def is_fresh(headers: Mapping[str, str], *, now: Callable[[], float]) -> bool:
    """True if ``headers`` carry a signature and a timestamp within the replay window (before any body is read)."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not timestamp.isdigit() or not headers.get("X-Slack-Signature"):
        return False
    return abs(now() - int(timestamp)) <= MAX_SKEW_SECONDS


def is_valid(secret: str, headers: Mapping[str, str], body: bytes, *, now: Callable[[], float]) -> bool:
    """True if ``headers`` carry a valid signature of ``body`` made within the replay window.

    An empty or blank secret validates nothing: anyone can sign with the empty key.
    """
    if not secret.strip():
        return False
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isdigit() or not signature:
        return False
    if abs(now() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
