"""Internal notes: staff text that stays on the department side and never reaches the citizen."""

from __future__ import annotations

NOTE_PREFIX = "note:"


def is_internal_note(text: str) -> bool:
    """A message whose text, after leading spaces, starts with ``note:`` (any case) is an internal note."""
    return text.lstrip().casefold().startswith(NOTE_PREFIX)


def as_internal_note(text: str) -> str:
    """``text`` marked as an internal note (unchanged when it already is one)."""
    return text if is_internal_note(text) else f"{NOTE_PREFIX} {text}"


def without_note_mark(text: str) -> str:
    """A note's text without its leading ``note:`` (where a label already says it is a note)."""
    return text.lstrip()[len(NOTE_PREFIX) :].lstrip() if is_internal_note(text) else text
