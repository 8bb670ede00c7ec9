"""Rendering for Discord: escaping citizen-bound text, splitting at 2,000 characters, nonces, commands."""

from __future__ import annotations

import hashlib

import discord

from bot.events import CitizenCommandKind
from bot.model import CitizenReply, ReplyKind

#: Discord refuses message content longer than this.
MESSAGE_LIMIT = 2000
#: Discord accepts nonces of at most this many characters.
NONCE_LIMIT = 25
#: Buttons per message (five rows of five) and characters per button label.
MAX_BUTTONS = 25
LABEL_LIMIT = 80
#: Files per message.
MAX_FILES = 10
#: Menu buttons carry ``menu:<option key>`` as their custom id.
MENU_PREFIX = "menu:"

COMMANDS = {
    "!start": CitizenCommandKind.START,
    "!help": CitizenCommandKind.HELP,
    "!status": CitizenCommandKind.STATUS,
    "!new": CitizenCommandKind.NEW,
    "!language": CitizenCommandKind.LANGUAGE,
    "!mydata": CitizenCommandKind.MYDATA,
    "!forget": CitizenCommandKind.FORGET,
}


def escape(text: str) -> str:
    """Plain text as Discord shows it literally: markdown escaped, mass mentions defused."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def render(reply: CitizenReply) -> str:
    """The Discord text of a reply to a citizen (escaped; a staff answer is signed)."""
    text = escape(reply.text)
    if reply.kind is ReplyKind.STAFF and reply.signature:
        text = f"{text}\n\n— {escape(reply.signature)}"
    return text


def split(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at a line break or space when there is one."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut <= 0:
            cut = limit
            if window.endswith("\\"):  # never separate an escape from the character it escapes
                cut -= 1
            parts.append(rest[:cut])
            rest = rest[cut:]
        else:
            parts.append(rest[:cut].rstrip())
            rest = rest[cut + 1 :]
    if rest.strip() or not parts:
        parts.append(rest)
    return [part for part in parts if part] or [""]


def nonce(key: str, part: int) -> str:
    """A nonce for part ``part`` of one delivery, the same on every retry (Discord keeps it a few minutes)."""
    digest = hashlib.sha256(f"{key}:{part}".encode()).hexdigest()
    return f"cb{digest[: NONCE_LIMIT - 2]}"


def command_of(text: str) -> CitizenCommandKind | None:
    """The citizen command a DM text is (``!status``, ``!new``, ``!help``, ``!start``), if it is one."""
    words = text.strip().split(maxsplit=1)
    return COMMANDS.get(words[0].casefold()) if len(words) == 1 else None


#: Commands that may carry an argument (``!subscribe 2``, ``!stop roads``, ``!answer 1``); ``!stop``: ``!unsubscribe``.
ARGUMENT_COMMANDS = {
    "!language": CitizenCommandKind.LANGUAGE,
    "!subscribe": CitizenCommandKind.SUBSCRIBE,
    "!topics": CitizenCommandKind.TOPICS,
    "!unsubscribe": CitizenCommandKind.UNSUBSCRIBE,
    "!stop": CitizenCommandKind.UNSUBSCRIBE,
    "!answer": CitizenCommandKind.ANSWER,
}


def argument_command_of(text: str) -> tuple[CitizenCommandKind, str] | None:
    """A command that may carry an argument, with it (``!subscribe 2``: SUBSCRIBE and ``2``), or None."""
    head, _, argument = text.strip().partition(" ")
    kind = ARGUMENT_COMMANDS.get(head.casefold())
    return None if kind is None else (kind, argument.strip())


def language_argument_of(text: str) -> str | None:
    """What follows ``!language`` (``!language es``: ``es``; alone: empty), or None when it is not that command."""
    head, _, argument = text.strip().partition(" ")
    return argument.strip() if head.casefold() == "!language" else None


def size_text(size: int) -> str:
    """A file size for people: ``12.3 MB``."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
