"""Internal notes: staff text that stays on the department side and never reaches the citizen.

One rule everywhere: ``bot.text_safety.is_internal_note`` (it sees through zero-width
characters, full-width letters and ``Note :``); this module only marks and unmarks.
"""

from __future__ import annotations

import unicodedata

from bot.text_safety import is_internal_note

NOTE_PREFIX = "note:"

__all__ = ["NOTE_PREFIX", "as_internal_note", "is_internal_note", "without_note_mark"]


def as_internal_note(text: str) -> str:
    """``text`` marked as an internal note (unchanged when it already is one)."""
    return text if is_internal_note(text) else f"{NOTE_PREFIX} {text}"


def without_note_mark(text: str) -> str:
    """A note's text without its leading ``note:`` mark (where a label already says it is a note)."""
    if not is_internal_note(text):
        return text
    # The mark ends at the first colon, however it was written (``:``, full-width ``：``).
    for index, char in enumerate(text):
        if unicodedata.normalize("NFKC", char) == ":":
            return text[index + 1 :].lstrip()
    return text  # pragma: no cover  # a note always has its colon
