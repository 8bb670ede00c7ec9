"""``!asis``: a staff reply that starts with it goes to the citizen exactly as typed, never machine-translated."""

from __future__ import annotations

import re

AS_TYPED_MARK = "!asis"
_MARK = re.compile(r"\s*!asis(?:\s+|$)", re.IGNORECASE)


def is_as_typed(text: str) -> bool:
    """Whether ``text``, after leading spaces, starts with ``!asis`` (any case) as a word of its own."""
    return _MARK.match(text) is not None


def without_as_typed_mark(text: str) -> str:
    """``text`` without its leading ``!asis`` (unchanged when it has none, or when nothing follows it)."""
    found = _MARK.match(text)
    if found is None or not text[found.end() :].strip():
        return text
    return text[found.end() :]
