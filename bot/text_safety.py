"""Text as the bridge stores and judges it: ``clean_text`` for what any database can hold, ``is_internal_note``.

Pure functions, no I/O. A note that leaks to a citizen is worse than a reply held,
so ``is_internal_note`` normalises generously before it decides.
"""

from __future__ import annotations

import re
import unicodedata

#: C0 control characters except tab and newline: NUL breaks PostgreSQL, the rest only confuse readers.
_C0_BUT_TAB_AND_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f]")
#: After NFKC and casefold: the word ``note``, optional spaces, then a colon.
_NOTE = re.compile(r"note\s*:")


def clean_text(text: str) -> str:
    """``text`` without NUL and other C0 controls (newline and tab kept), lone surrogates as U+FFFD, in NFC."""
    # Through UTF-16: a surrogate pair split across two code points joins up again, a lone one becomes one U+FFFD.
    whole = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return unicodedata.normalize("NFC", _C0_BUT_TAB_AND_NEWLINE.sub("", whole))


def _visible(text: str) -> str:
    """``text`` without invisible format characters (zero-width spaces and joiners, BOM, bidi marks)."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def is_internal_note(text: str) -> bool:
    """Whether staff marked ``text`` as an internal note: ``note:`` first, however it was written.

    Leading whitespace and invisible characters are ignored, full-width and other
    compatibility forms count as their plain letters (NFKC), case does not matter,
    and spaces may stand before the colon (``Note :``, ``ＮＯＴＥ：``).
    """
    folded = unicodedata.normalize("NFKC", _visible(clean_text(text))).casefold()
    return _NOTE.match(folded.lstrip()) is not None
