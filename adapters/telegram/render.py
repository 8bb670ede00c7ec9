"""What a citizen reply looks like on Telegram: HTML-escaped text, the signature, 4,096-character parts.

Telegram counts a message's length in UTF-16 code units after parsing the
markup, so the plain text is split first and each part escaped afterwards.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from bot.model import CitizenReply, MenuOption

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes, a Bot API limit on inline button data
_BREAKS = ("\n\n", "\n", " ")
_BMP_LAST = 0xFFFF  # characters above take two UTF-16 code units


def utf16_len(text: str) -> int:
    """The length Telegram measures: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > _BMP_LAST else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` code units, at a paragraph, line or word break.

    A word longer than the limit (a very long link) is cut where the limit falls.
    """
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        fits = _fitting_prefix(rest, limit)
        head = rest[:fits]
        cut = -1
        for separator in _BREAKS:
            cut = head.rfind(separator)
            if cut > 0:
                break
        if cut <= 0:
            parts.append(head)
            rest = rest[fits:]
            continue
        parts.append(head[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return [part for part in parts if part] or [""]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply as Telegram messages: HTML parts (sent in order) and an inline keyboard for the last one."""

    parts: tuple[str, ...]
    keyboard: tuple[MenuOption, ...] = ()


def signature_line(signature: str) -> str:
    """The signature as it ends a staff reply, in HTML."""
    return f"— <i>{html.escape(signature)}</i>"


def render(reply: CitizenReply, *, limit: int = MESSAGE_LIMIT) -> Rendered:
    """Escape, sign and split a reply; a menu gets buttons when every option fits Telegram's limits."""
    signature = f"\n\n— {reply.signature}" if reply.signature else ""
    plain = split_text(reply.text.strip(), limit) if reply.text.strip() else []
    parts = [html.escape(part) for part in plain]
    if reply.signature:
        if plain and utf16_len(plain[-1]) + utf16_len(signature) <= limit:
            parts[-1] = f"{parts[-1]}\n\n{signature_line(reply.signature)}"
        else:
            parts.append(signature_line(reply.signature))
    keyboard = reply.options if all(_fits_button(option) for option in reply.options) else ()
    return Rendered(tuple(parts), keyboard)


def _fits_button(option: MenuOption) -> bool:
    return 0 < len(option.key.encode()) <= CALLBACK_DATA_LIMIT
