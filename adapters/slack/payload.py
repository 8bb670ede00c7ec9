"""Slack request bodies checked before slack-bolt parses them: JSON of Slack's shape, nested no deeper than Slack nests.

Bolt's own parsing raises on deeply nested JSON (``RecursionError``) and on
payloads of the wrong shape; what does not pass here is answered 400 instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

#: Slack's deepest structures (rich text in blocks inside a message inside an edit) stay far below this.
MAX_DEPTH = 64


def depth(value: object) -> int:
    """How deeply ``value`` (parsed JSON) nests lists and objects; walked without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[object] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _object(text: str) -> Mapping[str, Any] | None:
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):  # the C parser gives up on deep nesting with RecursionError
        return None
    if not isinstance(parsed, dict) or depth(parsed) > MAX_DEPTH:
        return None
    return parsed


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
