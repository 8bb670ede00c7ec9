"""Discord, inbound: what a citizen's DM, edit or button press becomes for the relay, and the per-chat order.

Each function returns the relay event (or how to build it: a message's files
are downloaded only when the relay is handed the event). ``ChatLocks`` keeps
one chat's events in the order the citizen wrote them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import discord

from adapters.discord.render import argument_command_of, command_of
from bot.events import CitizenCommand, CitizenMessage, InboundEvent, MenuChoice, Sender
from bot.model import DISCORD, Address, FileData

Build = Callable[[], Awaitable[InboundEvent]]


class ChatLocks:
    """One lock per chat, so a citizen's messages reach the relay in the order they were written."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def hold(self, chat: int) -> AsyncIterator[None]:
        """Hold ``chat``'s lock (the lock is dropped once nobody waits for it)."""
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._holders[chat] = self._holders.get(chat, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._holders[chat] -= 1
            if not self._holders[chat]:
                del self._holders[chat], self._locks[chat]


def message_event(message: discord.Message) -> Build:
    """How to build the event of a DM: a command (``/start``, ``/language de`` …) or a message with its files."""
    chat = message.channel.id
    command = command_of(message.content) if not message.attachments else None
    with_argument = argument_command_of(message.content) if not message.attachments else None
    sender = sender_of(message.author)
    address = Address(DISCORD, str(chat))

    async def build() -> InboundEvent:
        if with_argument is not None:
            return CitizenCommand(str(message.id), sender, address, *with_argument)
        if command is not None:
            return CitizenCommand(str(message.id), sender, address, command)
        files = tuple([await _download(attachment) for attachment in message.attachments])
        return CitizenMessage(
            event_id=str(message.id),
            sender=sender,
            chat=address,
            text=message.content,
            files=files,
            source_id=str(message.id),
        )

    return build


def edit_event(message: discord.Message, edited_at: str) -> CitizenMessage:
    """The event of an edited DM: its new text, once per edit."""
    return CitizenMessage(
        event_id=f"edit:{message.id}:{edited_at}",
        sender=sender_of(message.author),
        chat=Address(DISCORD, str(message.channel.id)),
        text=message.content,
        source_id=str(message.id),
        edited=True,
    )


def menu_event(interaction: discord.Interaction, chat: int, choice: str) -> MenuChoice:
    """The event of a menu button pressed in a DM (the citizen's Discord locale as their language)."""
    language = str(interaction.locale.value).split("-")[0] if interaction.locale else None
    return MenuChoice(
        event_id=f"ix:{interaction.id}",
        sender=sender_of(interaction.user, language),
        chat=Address(DISCORD, str(chat)),
        choice=choice,
    )


def ready(event: InboundEvent) -> Build:
    """How to build an event that is already built."""

    async def build() -> InboundEvent:
        return event

    return build


def sender_of(user: discord.abc.User, language: str | None = None) -> Sender:
    """The relay's sender for a Discord user."""
    return Sender(DISCORD, str(user.id), user.display_name, language)


async def _download(attachment: discord.Attachment) -> FileData:
    data = await attachment.read()
    return FileData(attachment.filename, attachment.content_type or "application/octet-stream", data)
