"""The Telegram adapter: long polling or a webhook in, the Bot API out (python-telegram-bot 22).

Polling confirms an update to Telegram (by asking for the next offset) only
after the relay accepted it, so a crash loses nothing: unconfirmed updates
come again and the relay drops the copies. The library's ``Updater`` would
confirm as soon as updates are queued, before they are handled, so the
adapter runs its own loop over ``Bot.get_updates``. In webhook mode the
route lives on the bridge's HTTP server and answers 200 only after the relay
accepted the update.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram import Message as TelegramMessage
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder
from telegram.warnings import PTBDeprecationWarning

from adapters.pacing import PaceWaitError, SendPace
from adapters.telegram.intake import ALLOWED_UPDATES, COMMAND_DESCRIPTIONS, Intake
from adapters.telegram.render import render
from bot.body_limits import limit_body, read_at_most, too_large
from bot.model import TELEGRAM, CitizenReply, FileData, MenuOption, Outgoing, Platform, Sent
from bot.ports import DeliveryError, InboundSink
from bot.retry import Attempts, Backoff, Delay
from bot.speech import Languages

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org/bot"
WEBHOOK_PATH = "/telegram/webhook"
#: The largest webhook body accepted: an update is a message (4,096 characters) and what it quotes, never a file.
MAX_UPDATE_BYTES = 256 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  # a header name, not a secret
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
PHOTO_LIMIT = 10 * 1024 * 1024  # sendPhoto's limit; larger images go as documents
_ALBUM_CHECK = 0.2  # seconds between looks at the queue while an album is being collected
_SENDS_REMEMBERED = 2048
#: HTTP connections to the Bot API for sending (getUpdates has its own).
CONNECTIONS = 8

Step = Callable[[], Awaitable[TelegramMessage]]


def file_url_for(api_url: str) -> str:
    """The file-download base beside a Bot API base: ``…/bot`` → ``…/file/bot``."""
    base, _, tail = api_url.rstrip("/").rpartition("/")
    return f"{base}/file/{tail}"


#: Seconds to wait after the n-th failed attempt in a row to reach Telegram: 2, 4, 8 … up to a minute.
default_retry_delay = Backoff(first=2.0, cap=60.0)


def retry_seconds(error: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds, whichever type this library version hands out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(error: TelegramError) -> DeliveryError:  # noqa: PLR0911  # one answer per kind of error
    """How a failed Bot API call counts for the outbox (no message text in the reason)."""
    if isinstance(error, RetryAfter):
        return DeliveryError("Telegram asked the bridge to slow down", retry_after=retry_seconds(error))
    if isinstance(error, Forbidden):
        message = error.message.lower()
        reason = (
            "the citizen has blocked the bot"
            if "blocked" in message
            else "the citizen's account was deleted"
            if "deactivated" in message
            else "Telegram refused"
        )
        gone = any(word in message for word in ("blocked", "deactivated", "kicked"))
        return DeliveryError(f"{reason} ({error.message})", permanent=True, gone=gone)
    if isinstance(error, ChatMigrated):
        return DeliveryError("the chat moved (it is a group, not a private chat)", permanent=True)
    if isinstance(error, BadRequest):
        if "chat not found" in error.message.lower():
            return DeliveryError("the citizen's chat no longer exists (chat not found)", permanent=True, gone=True)
        return DeliveryError(f"Telegram rejected the message ({error.message})", permanent=True)
    if isinstance(error, InvalidToken):
        return DeliveryError("Telegram rejected the bot token (check BRIDGE_TELEGRAM_TOKEN)")
    if isinstance(error, TimedOut):
        return DeliveryError("Telegram did not answer in time")
    if isinstance(error, NetworkError):
        return DeliveryError(f"could not reach Telegram ({error.message})")
    return DeliveryError(f"Telegram error ({error.message})")


@dataclass(frozen=True, slots=True)
class _Progress:
    """How far one delivery got: a long reply is several messages, and a retry resumes after the last sent."""

    steps_done: int
    first_id: str


class TelegramAdapter:
    """Citizens in private chats with the bot. See docs/telegram.md for how an operator sets it up."""

    def __init__(
        self,
        *,
        token: str,
        api_url: str = DEFAULT_API_URL,
        file_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        max_file_bytes: int = 20 * 1024 * 1024,
        flood: SendPace | None = None,
        album_window: float = 1.0,
        poll_timeout: int = 30,
        retry_delay: Delay = default_retry_delay,
        languages: Languages | None = None,
    ) -> None:
        if webhook_url and not webhook_secret:
            raise ValueError("a webhook needs a secret (BRIDGE_TELEGRAM_WEBHOOK_SECRET)")
        self._app: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(token)
            .base_url(api_url)
            .base_file_url(file_url or file_url_for(api_url))
            .updater(None)
            # httpcore scans every pooled connection for each request: a broadcast's burst of sends grew the
            # default pool (256) and every later send paid for it. A few connections carry the flood limits.
            .connection_pool_size(CONNECTIONS)
            .build()
        )
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret or ""
        self._max_file_bytes = max_file_bytes
        self._flood = flood or SendPace()
        self._album_window = album_window
        self._poll_timeout = poll_timeout
        self._retry_delay = retry_delay
        self._languages = languages or Languages.english()
        self._intake: Intake | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._down: str | None = "down: not started"
        self._ready = False
        self._polling = False
        self._connected = asyncio.Event()
        self._offset: int | None = None
        self._confirmed: int | None = None
        self._progress: OrderedDict[str, _Progress] = OrderedDict()

    @property
    def platform(self) -> Platform:
        """Telegram."""
        return TELEGRAM

    def health(self) -> str:
        """``up`` when sending works and, if this process polls, polling runs; else connecting or "down: why"."""
        if self._down is not None:
            return self._down
        # Up only once connecting finished: in webhook mode, once Telegram has the webhook.
        if not self._connected.is_set() or (self._poll_task is not None and not self._polling):
            return "connecting"
        return "up"

    def mount(self, app: web.Application) -> None:
        """In webhook mode, add ``POST /telegram/webhook``; in polling mode there is nothing to mount."""
        if self._webhook_url:
            app.router.add_post(WEBHOOK_PATH, self._on_webhook)
            limit_body(app, WEBHOOK_PATH, MAX_UPDATE_BYTES)

    async def start(self, sink: InboundSink) -> None:
        """Connect in the background (sending works from then on); in webhook mode, register the webhook."""
        # The HTTP client logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._intake = Intake(
            bot=self._app.bot,
            sink=sink,
            max_file_bytes=self._max_file_bytes,
            album_window=self._album_window,
            languages=self._languages,
        )
        self._down = None
        self._connect_task = asyncio.create_task(self._run_connect(), name="telegram-connect")

    async def start_intake(self) -> None:
        """Begin long polling (one process at a time: see ``bot.leadership``); nothing to do for a webhook."""
        if self._webhook_url or self._poll_task is not None:
            return
        self._poll_task = asyncio.create_task(self._poll(), name="telegram-polling")

    async def stop_intake(self) -> None:
        """Stop polling and confirm to Telegram what the relay accepted; sending keeps working."""
        task, self._poll_task = self._poll_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._polling = False
        if self._ready and self._offset is not None and self._offset != self._confirmed:
            with contextlib.suppress(TelegramError, TimeoutError):
                async with asyncio.timeout(5):
                    await self._app.bot.get_updates(offset=self._offset, timeout=0, limit=1)
                    self._confirmed = self._offset

    async def stop(self) -> None:
        """Stop intake, drop albums still being collected (they were not confirmed), close the HTTP client."""
        await self.stop_intake()
        task, self._connect_task = self._connect_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._intake is not None:
            await self._intake.close()
        self._ready = False
        self._connected.clear()
        await self._app.shutdown()
        self._down = "down: stopped"

    # --- intake ------------------------------------------------------------------------------------

    async def _run_connect(self) -> None:
        attempts = Attempts(self._retry_delay)
        while True:
            try:
                await self._connect()
            except InvalidToken:
                self._down = "down: Telegram rejected the token (check BRIDGE_TELEGRAM_TOKEN)"
                log.error("telegram: %s", self._down)  # noqa: TRY400  # the reason is the whole story
                return
            except TelegramError as error:
                self._down = f"down: {error.message}"
                log.warning("telegram: could not connect (%s); trying again", error.message)
                await attempts.back_off()
            else:
                self._down = None
                self._connected.set()
                return

    async def _connect(self) -> None:
        await self._app.initialize()
        bot = self._app.bot
        self._ready = True
        if self._webhook_url:
            await bot.set_webhook(
                self._webhook_url, secret_token=self._webhook_secret, allowed_updates=list(ALLOWED_UPDATES)
            )
            log.info("telegram: webhook registered; updates arrive at %s", WEBHOOK_PATH)
        try:  # after the webhook: one menu per offered language is eleven calls, and updates matter more
            await self._register_commands(bot)
        except TelegramError as error:  # the bot works without its command menu
            log.warning("telegram: could not register the command menu: %s", error.message)

    async def _register_commands(self, bot: Bot) -> None:
        """The command menu in the office language, and in each offered language for accounts set to it."""
        office = self._languages.voice(self._languages.office_language)
        await bot.set_my_commands([BotCommand(name, office.say(text)) for name, text in COMMAND_DESCRIPTIONS])
        for code in self._languages.offered:
            voice = self._languages.voice(code)
            commands = [BotCommand(name, voice.say(text)) for name, text in COMMAND_DESCRIPTIONS]
            await bot.set_my_commands(commands, language_code=code)

    async def _poll(self) -> None:
        """Fetch, hand to the relay, and only then confirm (by asking from the next offset)."""
        assert self._intake is not None  # noqa: S101  # set by start()
        await self._connected.wait()
        bot = self._app.bot
        done: set[int] = set()
        waiting: dict[int, asyncio.Future[None]] = {}
        attempts = Attempts(self._retry_delay)
        webhook_removed = False
        while True:
            offset = self._offset
            try:
                if not webhook_removed:
                    await bot.delete_webhook()
                    webhook_removed = True
                    log.info("telegram: long polling")
                self._polling = True
                updates = await bot.get_updates(
                    offset=offset, timeout=0 if waiting else self._poll_timeout, allowed_updates=list(ALLOWED_UPDATES)
                )
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except TimedOut:
                continue
            except InvalidToken:
                self._down = "down: Telegram rejected the token (check BRIDGE_TELEGRAM_TOKEN)"
                log.error("telegram: %s", self._down)  # noqa: TRY400  # the reason is the whole story
                return
            except TelegramError as error:
                hint = " (another copy of the bot is polling, or a webhook is set)" * isinstance(error, Conflict)
                self._down = f"down: {error.message}{hint}"
                log.warning("telegram: getUpdates failed: %s%s", error.message, hint)
                await attempts.back_off()
                continue
            self._confirmed = offset
            self._down = None
            trouble = await self._take(updates, done, waiting)
            fetched = sorted(update.update_id for update in updates)
            if fetched:
                unfinished = [update_id for update_id in fetched if update_id not in done]
                self._offset = unfinished[0] if unfinished else fetched[-1] + 1
                done = {update_id for update_id in done if update_id >= self._offset}
            if trouble:
                await attempts.back_off()
            else:
                attempts.succeeded()

    async def _take(
        self, updates: tuple[Update, ...], done: set[int], waiting: dict[int, asyncio.Future[None]]
    ) -> bool:
        """Hand new updates to the relay in order; True if one could not be taken (it comes again)."""
        assert self._intake is not None  # noqa: S101  # set by start()
        trouble = False
        for update in updates:
            update_id = update.update_id
            if update_id in done or update_id in waiting:
                continue
            try:
                collecting = await self._intake.process(update)
            except Exception:
                log.exception("telegram: update %s could not be taken; it will be fetched again", update_id)
                trouble = True
                break
            if collecting is None:
                done.add(update_id)
            else:
                waiting[update_id] = collecting
        if waiting:
            await asyncio.wait(set(waiting.values()), timeout=_ALBUM_CHECK)
        for update_id, collecting in list(waiting.items()):
            if not collecting.done():
                continue
            del waiting[update_id]
            if collecting.cancelled() or collecting.exception() is not None:
                log.warning("telegram: an album could not be taken; it will be fetched again")
                trouble = True
            else:
                done.add(update_id)
        return trouble

    async def _on_webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._webhook_secret.encode()):
            return web.Response(status=403, text="forbidden")
        if self._intake is None or not self._ready:
            return web.Response(status=503, text="not started")
        body = await read_at_most(request, MAX_UPDATE_BYTES)
        if body is None:
            return too_large(MAX_UPDATE_BYTES)
        try:
            update = Update.de_json(json.loads(body), self._app.bot)
        except Exception:  # noqa: BLE001  # whatever the body, a bad one is answered, never a crash
            log.warning("telegram: the webhook received a body that is not an update")
            return web.Response(status=400, text="not an update")
        try:
            collecting = await self._intake.process(update)
            if collecting is not None:
                await collecting
        except Exception:
            log.exception("telegram: update %s could not be taken; Telegram will send it again", update.update_id)
            return web.Response(status=500, text="try again")
        return web.Response(text="ok")

    # --- sending -----------------------------------------------------------------------------------

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        """Send one reply (several messages if long, then its files); resumes where a failed try stopped."""
        body = out.body
        if not self._ready:
            raise DeliveryError("not connected to Telegram yet")
        try:
            chat_id = int(out.target.chat)
        except ValueError:
            raise DeliveryError(f"not a Telegram chat id: {out.target.chat!r}", permanent=True) from None
        steps = self._steps(chat_id, body, out.files)
        if not steps:
            raise DeliveryError("an empty reply: nothing to send", permanent=True)
        progress = self._progress.get(out.idempotency_key) if out.idempotency_key else None
        done, first_id = (progress.steps_done, progress.first_id) if progress else (0, "")
        for index in range(done, len(steps)):
            try:
                await self._flood.wait(out.target.chat)
            except PaceWaitError as error:
                raise DeliveryError("holding back for Telegram's rate limits", retry_after=error.seconds) from error
            try:
                message = await steps[index]()
            except TelegramError as error:
                raise delivery_error(error) from error
            first_id = first_id or str(message.message_id)
            if out.idempotency_key:
                self._remember(out.idempotency_key, _Progress(index + 1, first_id))
        return Sent(message_id=first_id)

    def _remember(self, key: str, progress: _Progress) -> None:
        self._progress[key] = progress
        self._progress.move_to_end(key)
        while len(self._progress) > _SENDS_REMEMBERED:
            self._progress.popitem(last=False)

    def _steps(self, chat_id: int, body: CitizenReply, files: tuple[FileData, ...]) -> list[Step]:
        """Each Bot API call this reply takes, in order: text parts (buttons on the last), then files."""
        bot: Bot = self._app.bot
        rendered = render(body)
        steps: list[Step] = []
        caption: str | None = None
        parts = list(rendered.parts)
        if files and not body.text.strip():
            caption, parts = "\n".join(parts) or None, []  # a file-only reply carries the signature as caption
        for number, part in enumerate(parts, start=1):
            markup = _keyboard(rendered.keyboard) if number == len(parts) and rendered.keyboard else None

            def send_part(text: str = part, markup: InlineKeyboardMarkup | None = markup) -> Awaitable[TelegramMessage]:
                return bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)

            steps.append(send_part)
        for number, file in enumerate(files):
            text = caption if number == 0 else None

            def send_file(file: FileData = file, text: str | None = text) -> Awaitable[TelegramMessage]:
                upload = InputFile(file.data, filename=file.name)
                if file.mime_type in PHOTO_TYPES and len(file.data) <= PHOTO_LIMIT:
                    return bot.send_photo(chat_id, upload, caption=text, parse_mode=ParseMode.HTML)
                return bot.send_document(chat_id, upload, caption=text, parse_mode=ParseMode.HTML)

            steps.append(send_file)
        return steps


def _keyboard(options: tuple[MenuOption, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(option.label, callback_data=option.key)] for option in options])
