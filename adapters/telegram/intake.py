"""Telegram updates as the relay's events: private messages, commands, menu taps, albums.

Groups get one polite note that the bot works in private chat only, and
nothing of theirs is stored. Files are downloaded through the Bot API within
the size cap; a file over it is refused to the citizen directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from telegram import Audio, Bot, Document, Message, Update, User, Video, VideoNote, Voice
from telegram.error import BadRequest, TelegramError

from bot import texts
from bot.events import CitizenCommand, CitizenCommandKind, CitizenMessage, InboundEvent, MenuChoice, Sender
from bot.model import TELEGRAM, Address, FileData
from bot.ports import InboundSink
from bot.speech import Languages
from bot.speech import Voice as Speaker
from bot.texts import Msg

log = logging.getLogger(__name__)

#: The update kinds the bridge asks Telegram for (polling and webhook alike).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

COMMANDS: dict[str, CitizenCommandKind] = {
    **{kind.value: kind for kind in CitizenCommandKind},
    "stop": CitizenCommandKind.UNSUBSCRIBE,  # /stop withdraws consent to announcements and consultations
}
#: What ``setMyCommands`` registers, in menu order (each description is translated per language).
COMMAND_DESCRIPTIONS: tuple[tuple[str, Msg], ...] = (
    ("start", texts.COMMAND_START),
    ("status", texts.COMMAND_STATUS),
    ("new", texts.COMMAND_NEW),
    ("help", texts.COMMAND_HELP),
    ("language", texts.COMMAND_LANGUAGE),
    ("mydata", texts.COMMAND_MYDATA),
    ("forget", texts.COMMAND_FORGET),
    ("subscribe", texts.COMMAND_SUBSCRIBE),
    ("topics", texts.COMMAND_TOPICS),
    ("stop", texts.COMMAND_STOP),
)
_ALBUM_PARTS_REMEMBERED = 4096


class FileTooBigError(Exception):
    """A citizen's file is over the size cap (or over what the Bot API lets bots download)."""


@dataclass(frozen=True, slots=True)
class _Wanted:
    file_id: str
    size: int | None
    name: str
    mime_type: str


@dataclass(slots=True)
class _Album:
    """Parts of one media group seen so far; flushed as one message when no part came for a while.

    ``chat``: the private chat it was sent in (a later update there means the album is complete).
    """

    chat: int
    parts: list[Update] = field(default_factory=list)
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    timer: asyncio.Task[None] | None = None


def human_size(size: int) -> str:
    """``20971520`` → ``20 MB``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{size / 1024:.0f} KB"


def location_text(latitude: float, longitude: float, title: str | None = None) -> str:
    """A location as a link anyone can open, with the coordinates (no address lookup)."""
    lat, lon = f"{latitude:.6f}", f"{longitude:.6f}"
    place = f"{title}: " if title else ""
    return f"Location: {place}https://www.openstreetmap.org/?mlat={lat}&mlon={lon} ({lat}, {lon})"


def _join(*texts: str) -> str:
    return "\n".join(text for text in texts if text)


def sender_of(user: User) -> Sender:
    """The citizen behind an update."""
    name = user.full_name or (f"@{user.username}" if user.username else f"Telegram user {user.id}")
    return Sender(TELEGRAM, str(user.id), name, user.language_code)


class Intake:
    """Normalises updates and hands them to the relay; one instance per running adapter.

    It remembers, in memory only, which group chats were already told that the
    bot works in private chat (so each group hears it once per process), and
    which album parts were already relayed.
    """

    def __init__(
        self, *, bot: Bot, sink: InboundSink, max_file_bytes: int, album_window: float, languages: Languages
    ) -> None:
        self._bot = bot
        self._languages = languages
        self._sink = sink
        self._max_file_bytes = max_file_bytes
        self._album_window = album_window
        self._groups_told: set[int] = set()
        self._albums: dict[str, _Album] = {}
        self._album_parts_relayed: OrderedDict[int, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    async def process(self, update: Update) -> asyncio.Future[None] | None:  # noqa: PLR0911  # one exit per kind
        """Handle one update. Returns None when done, or a future for an album part still being collected.

        Raises when the relay could not take the event: the update must then not be acknowledged.
        """
        if update.callback_query is not None:
            await self._callback(update)
            return None
        message = update.message or update.edited_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        voice = self._voice(message.from_user)
        if message.chat.type != "private":
            await self._refuse_group(message.chat.id, voice)
            return None
        sender = sender_of(message.from_user)
        chat = Address(TELEGRAM, str(message.chat.id))
        await self._albums_before(message.chat.id, message.media_group_id)
        edited = update.edited_message is not None
        if not edited and (command := _command(message)) is not None:
            kind, argument = command
            await self._sink.accept(CitizenCommand(str(update.update_id), sender, chat, kind, argument))
            return None
        if edited:
            await self._edited(update, message, sender, chat)
            return None
        if message.media_group_id is not None:
            return self._album_part(message.media_group_id, message.chat.id, update)
        try:
            text, files = await self._content(message)
        except FileTooBigError:
            await self._refuse_big(message.chat.id, voice)
            return None
        event = CitizenMessage(str(update.update_id), sender, chat, text, files, source_id=str(message.message_id))
        await self._sink.accept(event)
        return None

    async def close(self) -> None:
        """Drop albums still being collected: their updates were not acknowledged and will come again."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for album in self._albums.values():
            if album.timer is not None:
                album.timer.cancel()
            if not album.done.done():
                album.done.cancel()
        self._albums.clear()

    # --- kinds of update -----------------------------------------------------------------------

    async def _callback(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None  # noqa: S101  # checked by the caller
        try:
            message = query.message
            if message is not None and message.chat.type == "private" and query.data:
                event: InboundEvent = MenuChoice(
                    f"cb{query.id}", sender_of(query.from_user), Address(TELEGRAM, str(message.chat.id)), query.data
                )
                await self._sink.accept(event)
        finally:
            try:
                await query.answer()
            except TelegramError as error:  # an old or repeated query: the choice itself was taken
                log.info("telegram: could not answer a callback query: %s", error)

    async def _edited(self, update: Update, message: Message, sender: Sender, chat: Address) -> None:
        if message.location is not None:  # live-location updates arrive as edits: not news for staff
            return
        text = message.text or message.caption or ""
        if not text.strip():
            return
        event = CitizenMessage(
            str(update.update_id), sender, chat, text, source_id=str(message.message_id), edited=True
        )
        await self._sink.accept(event)

    def _album_part(self, group: str, chat: int, update: Update) -> asyncio.Future[None] | None:
        if update.update_id in self._album_parts_relayed:
            return None
        album = self._albums.setdefault(group, _Album(chat))
        if all(part.update_id != update.update_id for part in album.parts):
            album.parts.append(update)
        if album.timer is not None:
            album.timer.cancel()
            self._tasks.discard(album.timer)
        album.timer = asyncio.create_task(self._flush_later(group, album), name=f"telegram-album-{group}")
        self._tasks.add(album.timer)
        album.timer.add_done_callback(self._tasks.discard)
        return album.done

    async def _albums_before(self, chat: int, group: str | None) -> None:
        """Another update from ``chat``: an album it sent before (not ``group``) is complete and goes in first.

        Telegram sends an album's parts together, so a citizen's text sent right after an album
        would otherwise overtake it while its window runs.
        """
        for other, album in list(self._albums.items()):
            if album.chat != chat or other == group:
                continue
            del self._albums[other]  # still here: its timer is still asleep, and stopping it stops nothing begun
            if album.timer is not None:
                album.timer.cancel()
                self._tasks.discard(album.timer)
            await self._finish(album)

    async def _flush_later(self, group: str, album: _Album) -> None:
        await asyncio.sleep(self._album_window)
        if self._albums.get(group) is album:
            del self._albums[group]
        await self._finish(album)

    async def _finish(self, album: _Album) -> None:
        """Relay the album; whoever waits on ``album.done`` learns how it went (and retries a failure)."""
        try:
            await self._flush(album)
        except asyncio.CancelledError:
            album.done.cancel()
            raise
        except Exception as error:  # noqa: BLE001  # handed to whoever waits on the album, who retries
            album.done.set_exception(error)
        else:
            album.done.set_result(None)

    async def _flush(self, album: _Album) -> None:
        parts = sorted(album.parts, key=lambda part: part.update_id)
        messages = [part.message for part in parts if part.message is not None]
        first = messages[0]
        assert first.from_user is not None  # noqa: S101  # checked before the part was collected
        texts: list[str] = []
        files: list[FileData] = []
        try:
            for message in messages:
                text, found = await self._content(message)
                texts.append(text)
                files.extend(found)
        except FileTooBigError:
            await self._refuse_big(first.chat.id, self._voice(first.from_user))
        else:
            event = CitizenMessage(
                str(parts[0].update_id),
                sender_of(first.from_user),
                Address(TELEGRAM, str(first.chat.id)),
                _join(*texts),
                tuple(files),
                source_id=str(first.message_id),
            )
            await self._sink.accept(event)
        for part in parts:
            self._album_parts_relayed[part.update_id] = None
        while len(self._album_parts_relayed) > _ALBUM_PARTS_REMEMBERED:
            self._album_parts_relayed.popitem(last=False)

    # --- content -----------------------------------------------------------------------------------

    async def _content(self, message: Message) -> tuple[str, tuple[FileData, ...]]:
        """The text (with location or contact spelled out) and the downloaded files of a message."""
        text = message.text or message.caption or ""
        if message.location is not None:
            title = message.venue.title if message.venue is not None else None
            text = _join(text, location_text(message.location.latitude, message.location.longitude, title))
        if message.contact is not None:
            contact = message.contact
            name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
            text = _join(text, f"Contact: {name}, phone {contact.phone_number}")
        wanted = _file_of(message)
        files = (await self._download(wanted),) if wanted is not None else ()
        return text, files

    async def _download(self, wanted: _Wanted) -> FileData:
        if wanted.size is not None and wanted.size > self._max_file_bytes:
            raise FileTooBigError
        try:
            remote = await self._bot.get_file(wanted.file_id)
        except BadRequest as error:
            if "too big" in error.message.lower():
                raise FileTooBigError from error
            raise
        if remote.file_size is not None and remote.file_size > self._max_file_bytes:
            raise FileTooBigError
        data = bytes(await remote.download_as_bytearray())
        if len(data) > self._max_file_bytes:
            raise FileTooBigError
        return FileData(wanted.name, wanted.mime_type, data)

    # --- answered here, not through the relay ----------------------------------------------------

    def _voice(self, user: User) -> Speaker:
        """The language of a refusal sent here: the account's locale (the relay knows more, but is not asked)."""
        return self._languages.voice(self._languages.choose(None, None, locale=user.language_code).language)

    async def _refuse_group(self, chat_id: int, voice: Speaker) -> None:
        if chat_id in self._groups_told:
            return
        self._groups_told.add(chat_id)
        link = f" at https://t.me/{self._bot.username}" if self._bot.username else ""
        try:
            await self._bot.send_message(chat_id, voice.say(texts.GROUP_ONLY, link=link))
        except TelegramError as error:
            log.warning("telegram: could not tell a group chat that the bot works in private only: %s", error)

    async def _refuse_big(self, chat_id: int, voice: Speaker) -> None:
        # Sent straight away rather than through the outbox: nothing was accepted, so
        # there is no case message to attach it to, and a lost refusal loses no content.
        try:
            await self._bot.send_message(chat_id, voice.say(texts.FILE_TOO_BIG, limit=human_size(self._max_file_bytes)))
        except TelegramError as error:
            log.warning("telegram: could not tell a citizen their file was too big: %s", error)


def _command(message: Message) -> tuple[CitizenCommandKind, str] | None:
    """The command a message gives (``/language es``: LANGUAGE and ``es``), if it is one."""
    text = (message.text or "").strip()
    if not text.startswith("/"):
        return None
    head, _, argument = text.partition(" ")
    kind = COMMANDS.get(head.split(maxsplit=1)[0][1:].split("@", 1)[0].lower())
    return None if kind is None else (kind, argument.strip())


def _file_of(message: Message) -> _Wanted | None:
    """The one file a message carries, with a name and type staff can open."""
    number = message.message_id
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        return _Wanted(largest.file_id, largest.file_size, f"photo_{number}.jpg", "image/jpeg")
    media: tuple[tuple[Document | Voice | Audio | Video | VideoNote | None, str, str], ...] = (
        (message.document, f"document_{number}", "application/octet-stream"),
        (message.voice, f"voice_{number}.ogg", "audio/ogg"),
        (message.audio, f"audio_{number}", "audio/mpeg"),
        (message.video, f"video_{number}.mp4", "video/mp4"),
        (message.video_note, f"video_note_{number}.mp4", "video/mp4"),
    )
    for item, default_name, default_type in media:
        if item is not None:
            name = getattr(item, "file_name", None) or default_name
            mime_type = getattr(item, "mime_type", None) or default_type
            return _Wanted(item.file_id, item.file_size, name, mime_type)
    return None
