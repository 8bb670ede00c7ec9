"""Slack request bodies checked before slack-bolt parses them: JSON of Slack's shape, nested no deeper than Slack nests.

Bolt's own parsing raises on deeply nested JSON (``RecursionError``) and on
payloads of the wrong shape; what does not pass here is answered 400 instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

#: Slack's deepest structures (rich text in blocks inside a message inside an edit) stay far below this.
MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def depth(text: str) -> int:
    """How deeply JSON ``text`` nests arrays and objects (brackets inside strings do not count)."""
    deepest = current = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        current += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, current)
    return deepest


def _object(text: str) -> Mapping[str, Any] | None:
    if depth(text) > MAX_DEPTH:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def parse(text: str, *, content_type: str) -> Mapping[str, Any] | None:
    """The payload in a Slack request body (JSON events, or a form's ``payload`` field), or None if it is none."""
    if content_type == "application/x-www-form-urlencoded":
        fields = parse_qs(text)
        if "payload" not in fields:
            return fields or None  # slash commands and the like: flat form fields
        payload = _object(fields["payload"][0])
    else:
        payload = _object(text)
    if payload is None:
        return None
    for key in ("event", "user", "team", "channel", "container", "message"):
        if key in payload and not isinstance(payload[key], dict):
            return None
    if not isinstance(payload.get("type", ""), str) or not isinstance(payload.get("actions", []), list):
        return None
    return payload
