"""The Discord adapter: a discord.py ``Client`` that takes citizens' direct messages and answers them.

Citizens write to the bot by DM; each DM channel is a citizen chat. Guild messages are
ignored, except in an optional help-desk channel where a public message gets a short
invitation to write by DM (nothing is stored). Outbound replies are escaped, split at
2,000 characters and sent with no mentions allowed and a nonce, so a retried delivery
does not post twice.

This module holds the client's lifecycle and its event handlers; ``inbound``
builds the relay's events, ``outbound`` sends replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

from adapters.discord.buckets import amortize_bucket_expiry
from adapters.discord.inbound import ChatLocks, edit_event, menu_event, message_event, ready
from adapters.discord.outbound import CANNOT_MESSAGE_USER, ENTITY_TOO_LARGE, GONE, delivery_error, send_parts
from adapters.discord.render import MENU_PREFIX, nonce, render, size_text
from adapters.pacing import PaceWaitError, SendPace
from bot import texts
from bot.events import InboundEvent
from bot.model import DISCORD, CitizenReply, Outgoing, Platform, ReplyKind, Sent
from bot.ports import DeliveryError, InboundSink
from bot.retry import Attempts, Backoff
from bot.speech import Languages

# Importable from here as before the split into inbound and outbound.
__all__ = [
    "ACCEPT_ATTEMPTS",
    "CANNOT_MESSAGE_USER",
    "ENTITY_TOO_LARGE",
    "GONE",
    "RECONNECT_BACKOFF",
    "DiscordAdapter",
    "intents",
]

log = logging.getLogger(__name__)

#: Failed tries of ``sink.accept`` after which each further failure is logged as an error (the event is
#: never given up: Discord does not redeliver; the relay sets aside an event that itself keeps failing).
ACCEPT_ATTEMPTS = 6
#: Waits between attempts to log in or to reach the gateway: 1, 2, 4 … up to a minute.
RECONNECT_BACKOFF = Backoff(first=1.0, cap=60.0)


def intents(*, helpdesk: bool) -> discord.Intents:
    """The gateway intents the bridge needs: DMs only; guild messages only for the help-desk channel.

    The privileged message-content intent is not needed: Discord always sends the content of
    DMs to the bot, and the help-desk invitation does not read what was posted.
    """
    chosen = discord.Intents.none()
    chosen.dm_messages = True
    chosen.guild_messages = helpdesk
    return chosen


class DiscordAdapter:
    """Citizens on Discord, by direct message.

    ``start`` logs in over REST (sending works from every process); ``start_intake``
    connects the gateway, which only the process holding the intake lease should do.

    ``api_url`` and ``gateway_url`` replace discord.py's class-level ``Route.BASE`` and
    ``DiscordWebSocket.DEFAULT_GATEWAY`` when the adapter starts: discord.py offers no
    per-client setting, so they hold for the whole process (one Discord bot per process).
    """

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        gateway_url: str,
        max_file_bytes: int,
        helpdesk_channel: int | None = None,
        send_timeout: float = 60.0,
        accept_backoff: float = 1.0,
        languages: Languages | None = None,
        pace: SendPace | None = None,
    ) -> None:
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._gateway_url = gateway_url
        self._max_file_bytes = max_file_bytes
        self._helpdesk = helpdesk_channel
        self._send_timeout = send_timeout
        self._accept_backoff = accept_backoff
        self._pace = pace or SendPace(per_chat_interval=0.0, overall_rate=50.0)
        # A DM carries no locale: what the adapter says itself is in the office language.
        self._languages = languages or Languages.english()
        self._voice = self._languages.voice(self._languages.office_language)
        self._client: discord.Client | None = None
        self._sink: InboundSink | None = None
        self._login_task: asyncio.Task[None] | None = None
        self._gateway_task: asyncio.Task[None] | None = None
        self._logged_in = asyncio.Event()
        self._gateway_ready = False
        self._down: str | None = "down: not started"
        self._locks = ChatLocks()
        self._inflight: set[asyncio.Task[Any]] = set()

    @property
    def platform(self) -> Platform:
        """Discord."""
        return DISCORD

    def health(self) -> str:
        """``up`` when sending works and, if this process runs the intake, the gateway said READY.

        ``connecting`` meanwhile; ``down: …`` when Discord refused the token or the intents.
        """
        if self._down is not None:
            return self._down
        if not self._logged_in.is_set():
            return "connecting"
        if self._gateway_task is not None and not self._gateway_ready:
            return "connecting"
        return "up"

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, sink: InboundSink) -> None:
        """Log in over REST in the background, so that sending works; intake waits for ``start_intake``."""
        discord.http.Route.BASE = self._api_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._gateway_url)
        self._sink = sink
        self._down = None
        self._login_task = asyncio.create_task(self._login(), name="discord-login")

    async def start_intake(self) -> None:
        """Connect to the gateway and take in DMs (only one process at a time should: see ``bot.leadership``)."""
        if self._gateway_task is None:
            self._gateway_task = asyncio.create_task(self._connect(), name="discord-gateway")

    async def stop_intake(self) -> None:
        """Leave the gateway; sending keeps working."""
        task, self._gateway_task = self._gateway_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client = self._client
        if client is not None and client.ws is not None:
            await client.ws.close(code=1000)
        self._gateway_ready = False

    async def stop(self) -> None:
        """Leave the gateway, let events being handled finish (briefly), and log out."""
        await self.stop_intake()
        task, self._login_task = self._login_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
        if self._inflight:
            _done, pending = await asyncio.wait(set(self._inflight), timeout=5.0)
            for leftover in pending:
                leftover.cancel()
        self._logged_in.clear()
        self._down = "down: stopped"

    async def _login(self) -> None:
        attempts = Attempts(RECONNECT_BACKOFF)
        while True:
            client = self._new_client()
            self._client = client
            try:
                await client.login(self._token)
            except discord.LoginFailure:
                self._down = "down: Discord rejected the token; check BRIDGE_DISCORD_TOKEN"
                log.error("discord: the bot token was rejected; set a valid BRIDGE_DISCORD_TOKEN")  # noqa: TRY400  # the traceback says nothing more
                return
            except (OSError, aiohttp.ClientError, discord.DiscordException, TimeoutError) as error:
                wait = attempts.failed()
                log.warning("discord: login failed (%s); retrying in %.0fs", type(error).__name__, wait)
                await client.close()
                await attempts.pause(wait)
            else:
                self._logged_in.set()
                return

    async def _connect(self) -> None:
        await self._logged_in.wait()
        attempts = Attempts(RECONNECT_BACKOFF)
        while True:
            client = self._client
            assert client is not None  # noqa: S101  # set before logging in
            try:
                await client.connect(reconnect=True)
            except discord.PrivilegedIntentsRequired:
                self._down = "down: Discord refused the gateway intents"
                log.error("discord: the gateway refused our intents (see docs/discord.md)")  # noqa: TRY400  # as above
                return
            except (OSError, aiohttp.ClientError, discord.DiscordException, TimeoutError) as error:
                self._gateway_ready = False
                if client.is_closed():  # discord.py gives up on close codes it cannot recover from
                    self._down = f"down: Discord closed the gateway ({type(error).__name__})"
                    log.error("discord: the gateway connection cannot be resumed: %s", error)  # noqa: TRY400  # as above
                    return
                wait = attempts.failed()
                log.warning("discord: gateway failed (%s); reconnecting in %.0fs", type(error).__name__, wait)
                await attempts.pause(wait)
            else:
                return  # the client was closed

    def _new_client(self) -> discord.Client:
        client = discord.Client(
            intents=intents(helpdesk=self._helpdesk is not None),
            max_ratelimit_timeout=30.0,  # longer waits surface as RateLimited: the outbox retries later
            max_messages=None,  # no message cache: edits arrive as raw events
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
        )
        amortize_bucket_expiry(client.http)  # a broadcast makes a rate-limit bucket per DM channel
        handlers: dict[str, Callable[..., Awaitable[None]]] = {
            "on_connect": self._on_connected,
            "on_resumed": self._on_connected,
            "on_disconnect": self._on_disconnect,
            "on_message": self._on_message,
            "on_raw_message_edit": self._on_raw_edit,
            "on_interaction": self._on_interaction,
        }
        for name, handler in handlers.items():
            setattr(client, name, handler)
        return client

    async def _on_connected(self) -> None:
        self._gateway_ready = True
        log.info("discord: gateway ready")

    async def _on_disconnect(self) -> None:
        if self._gateway_ready:
            self._gateway_ready = False
            log.info("discord: gateway disconnected; reconnecting")

    # --- inbound -------------------------------------------------------------------------------

    def _is_own_or_bot(self, user: discord.abc.User) -> bool:
        me = self._client.user if self._client is not None else None
        return user.bot or (me is not None and user.id == me.id)

    async def _on_message(self, message: discord.Message) -> None:
        if self._is_own_or_bot(message.author):
            return
        if message.type not in {discord.MessageType.default, discord.MessageType.reply}:
            return
        if not isinstance(message.channel, discord.DMChannel):
            if self._helpdesk is not None and message.channel.id == self._helpdesk:
                await self._tracked(self._invite(message))
            return
        await self._tracked(self._intake(message))

    async def _intake(self, message: discord.Message) -> None:
        chat = message.channel.id
        async with self._locks.hold(chat):
            too_large = next((a for a in message.attachments if a.size > self._max_file_bytes), None)
            if too_large is not None:
                await self._tell_too_large(message, too_large)
                return
            await self._accept(message_event(message), f"message {message.id}")

    async def _on_raw_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        data: dict[str, Any] = dict(payload.data)
        edited_at = data.get("edited_timestamp")
        message = payload.message
        if not edited_at or "content" not in data or "author" not in data:
            return  # link previews and other non-edits also arrive as MESSAGE_UPDATE
        if data.get("guild_id") is not None or self._is_own_or_bot(message.author):
            return
        await self._tracked(self._edit(message, str(edited_at)))

    async def _edit(self, message: discord.Message, edited_at: str) -> None:
        chat = message.channel.id
        async with self._locks.hold(chat):
            await self._accept(ready(edit_event(message, edited_at)), f"edit of message {message.id}")

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.component or interaction.guild_id is not None:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(MENU_PREFIX) or interaction.channel_id is None:
            return
        await self._tracked(self._menu_choice(interaction, custom_id.removeprefix(MENU_PREFIX)))

    async def _menu_choice(self, interaction: discord.Interaction, choice: str) -> None:
        assert interaction.channel_id is not None  # noqa: S101  # checked by the caller
        chat = interaction.channel_id
        build = ready(menu_event(interaction, chat, choice))
        async with self._locks.hold(chat):
            await self._accept(build, f"interaction {interaction.id}")
        try:
            await interaction.response.defer()
        except (discord.HTTPException, discord.InteractionResponded, aiohttp.ClientError, OSError) as error:
            # a replayed interaction was answered the first time; Discord then says so
            log.info("discord: could not acknowledge interaction %s: %s", interaction.id, type(error).__name__)

    async def _accept(self, build: Callable[[], Awaitable[InboundEvent]], what: str) -> None:
        """Hand one event to the relay, trying again for a while: Discord will not send it twice."""
        assert self._sink is not None  # noqa: S101  # events arrive only after start
        attempts = Attempts(Backoff(first=self._accept_backoff, cap=30.0))
        while True:
            try:
                await self._sink.accept(await build())
            except Exception:
                wait = attempts.failed()
                level = logging.ERROR if attempts.failures >= ACCEPT_ATTEMPTS else logging.WARNING
                log.log(
                    level,
                    "discord: %s could not be taken in (attempt %d); retrying in %.0fs",
                    what,
                    attempts.failures,
                    wait,
                    exc_info=True,
                )
                await attempts.pause(wait)
            else:
                return

    async def _tracked(self, work: Awaitable[None]) -> None:
        """Run ``work`` so that ``stop`` can wait for it."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await work
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _invite(self, message: discord.Message) -> None:
        """Answer a public help-desk post with an invitation to write by DM; nothing is stored."""
        try:
            await message.channel.send(
                self._voice.say(texts.HELPDESK_INVITATION),
                reference=message.to_reference(fail_if_not_exists=False),
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=nonce(f"helpdesk:{message.id}", 0),
            )
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("discord: could not answer help-desk message %s: %s", message.id, type(error).__name__)

    async def _tell_too_large(self, message: discord.Message, attachment: discord.Attachment) -> None:
        text = self._voice.say(
            texts.FILE_TOO_LARGE,
            name=attachment.filename,
            size=size_text(attachment.size),
            limit=size_text(self._max_file_bytes),
        )
        try:
            await message.channel.send(
                render(CitizenReply(ReplyKind.SYSTEM, text, "")),
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=nonce(f"too-large:{message.id}", 0),
            )
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("discord: could not tell %s a file was too large: %s", message.channel.id, type(error).__name__)

    # --- outbound ------------------------------------------------------------------------------

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        """Send a reply to a citizen's DM channel; raises ``DeliveryError`` as the contract says."""
        body = out.body
        client = self._client
        if client is None or not self._logged_in.is_set():
            raise DeliveryError("not connected to Discord yet")
        if not out.target.chat.isdigit():  # a Discord channel id is a snowflake: digits only
            raise DeliveryError("the chat id is not a Discord channel id", permanent=True)
        channel = client.get_partial_messageable(int(out.target.chat), type=discord.ChannelType.private)
        try:
            async with asyncio.timeout(self._send_timeout):
                last = await send_parts(channel, body, out, pace=lambda: self._pace.wait(out.target.chat))
        except PaceWaitError as error:
            raise DeliveryError("holding back for Discord's rate limits", retry_after=error.seconds) from error
        except discord.RateLimited as error:
            raise DeliveryError("Discord rate limit", retry_after=error.retry_after) from error
        except discord.HTTPException as error:
            raise delivery_error(error) from error
        except (aiohttp.ClientError, OSError) as error:
            raise DeliveryError(f"network error talking to Discord: {type(error).__name__}") from error
        except TimeoutError as error:
            raise DeliveryError(f"Discord did not answer within {self._send_timeout:.0f}s") from error
        return Sent(message_id=str(last.id))
