"""A loopback Discord for end-to-end tests: the REST API, the gateway websocket and a file CDN.

An aiohttp server on 127.0.0.1 speaks enough of Discord's wire format for discord.py 2 to
log in, connect (HELLO, heartbeat ACKs, READY on IDENTIFY, RESUMED on RESUME, zlib-stream
compression when asked), receive dispatches, and send messages. Tests drive the citizen's
side (``dm``, ``edit``, ``press``, …) and assert on what the bot sent (``sent``).
``limit`` turns on Discord's rate limits (the bot's global budget and the per-channel
message bucket), answered as Discord answers them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import secrets
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from aiohttp import BodyPartReader, web

BOT_TOKEN = "emulated-discord-bot-token"  # noqa: S105  # a fake token the emulator expects
BOT_ID = 4000000000000000001
APPLICATION_ID = 4000000000000000002
NONCE_MEMORY_SECONDS = 300.0
JSON = "application/json"
#: The bucket hash the emulator gives ``POST /channels/{id}/messages`` (Discord's are opaque strings like it).
MESSAGE_BUCKET = "emulated-messages-bucket"
#: Discord marks its own 429s with ``Via`` (discord.py takes a 429 without it for a Cloudflare ban).
VIA_DISCORD = "1.1 google"


@dataclass
class Failure:
    """An answer the emulator gives to the next message send instead of creating the message."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited(retry_after: float) -> Failure:
    """A 429 as Discord sends it (JSON body and rate-limit headers; ``Via`` marks it as Discord's, not Cloudflare's)."""
    return Failure(
        429,
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
        {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "emulated-bucket",
            "X-RateLimit-Scope": "user",
            "Via": VIA_DISCORD,
        },
    )


def cannot_message_user() -> Failure:
    """The 403 Discord answers when a user does not accept DMs from the bot."""
    return Failure(403, {"message": "Cannot send messages to this user", "code": 50007})


def unknown_user() -> Failure:
    """The 404 Discord answers about a deleted account (opening a DM with it)."""
    return Failure(404, {"message": "Unknown User", "code": 10013})


def unknown_channel() -> Failure:
    """The 404 Discord answers when the DM channel is gone (the account was deleted)."""
    return Failure(404, {"message": "Unknown Channel", "code": 10003})


def server_error(status: int = 503) -> Failure:
    """A Discord outage."""
    return Failure(status, {"message": "Service Unavailable", "code": 0})


@dataclass
class SentMessage:
    """A message the bot created through ``POST /channels/{id}/messages``."""

    id: str
    channel_id: str
    content: str
    payload: dict[str, Any]
    files: list[tuple[str, bytes]]
    data: dict[str, Any]

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """The ``allowed_mentions`` object the bot sent."""
        value = self.payload.get("allowed_mentions")
        return dict(value) if isinstance(value, dict) else None

    @property
    def custom_ids(self) -> list[str]:
        """The custom ids of the message's buttons, in order."""
        rows = self.payload.get("components") or []
        return [button["custom_id"] for row in rows for button in row.get("components", [])]


def _timestamp() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Limits:
    """Discord's rate limits, as ``DiscordEmulator.limit`` set them (nothing is limited by default).

    ``per_second``: the bot's global budget over every REST request but interaction callbacks, a token
    bucket holding ``burst``; ``per_channel`` messages per ``window`` seconds into one channel (Discord's
    bucket for ``POST /channels/{id}/messages``, counted per channel as Discord counts it per major parameter).
    """

    per_second: float | None = None
    burst: float = 1.0
    per_channel: int | None = None
    window: float = 5.0
    tokens: float = 0.0
    at: float = 0.0
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)  # channel -> (window ends, messages in it)

    def global_wait(self, now: float) -> float:
        """0 if one more request fits the global budget now (it is counted); else the seconds until it would."""
        if self.per_second is None:
            return 0.0
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return (1 - self.tokens) / self.per_second
        self.tokens -= 1
        return 0.0

    def channel_bucket(self, channel: str, now: float) -> tuple[int, float] | None:
        """One more message into ``channel``: (messages left, seconds until the window resets), counted if it fits.

        None when the channel is unlimited; messages left is -1 when the window is full.
        """
        if self.per_channel is None:
            return None
        ends, used = self.windows.get(channel, (0.0, 0))
        if now >= ends:
            ends, used = now + self.window, 0
        if used >= self.per_channel:
            return -1, ends - now
        self.windows[channel] = (ends, used + 1)
        return self.per_channel - used - 1, ends - now


def global_rate_limited(retry_after: float) -> web.Response:
    """The 429 Discord answers over the global budget: ``global`` true, no per-route headers."""
    headers = {
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
        "Via": VIA_DISCORD,
    }
    body = {"message": "You are being rate limited.", "retry_after": _millis(retry_after), "global": True}
    return _json(body, status=429, headers=headers)


def _millis(seconds: float) -> float:
    """Seconds rounded up to the millisecond, as Discord gives ``retry_after`` (never 0: the wait is real)."""
    return max(1, math.ceil(seconds * 1000)) / 1000


def bucket_headers(limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers Discord sends with a request counted in a per-route bucket."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + _millis(reset_after):.3f}",
        "X-RateLimit-Reset-After": f"{_millis(reset_after):.3f}",
        "X-RateLimit-Bucket": MESSAGE_BUCKET,
    }


def channel_rate_limited(limit: int, retry_after: float) -> web.Response:
    """The 429 Discord answers over a channel's message bucket: the bucket's headers, ``global`` false."""
    headers = {
        **bucket_headers(limit, 0, retry_after),
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Scope": "user",
        "Via": VIA_DISCORD,
    }
    body = {"message": "You are being rate limited.", "retry_after": _millis(retry_after), "global": False}
    return _json(body, status=429, headers=headers)


class DiscordEmulator:
    """Discord on a random loopback port. ``async with DiscordEmulator() as discord: …``."""

    def __init__(self, *, heartbeat_interval_ms: int = 41250) -> None:
        self._ids = itertools.count(5000000000000000000)
        self._heartbeat_interval = heartbeat_interval_ms
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._socket: web.WebSocketResponse | None = None
        self._compressor: Any = None
        self._live = asyncio.Event()
        self._seq = 0
        self._session = ""
        self._nonces: dict[str, tuple[float, dict[str, Any]]] = {}
        self._files: dict[str, bytes] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, int] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeats = 0
        self.connections: list[str] = []
        self.sent: list[SentMessage] = []
        self.send_attempts = 0
        self.callbacks: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.failures: list[Failure] = []
        self.replay_on_resume: list[tuple[str, dict[str, Any]]] = []
        self._limits = Limits()
        self.rejected = 0  # requests answered 429 by the rate limits of ``limit``

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/resume-gateway", self._gateway)
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_get("/api/v10/gateway", self._gateway_info)
        app.router.add_get("/api/v10/gateway/bot", self._gateway_info)
        app.router.add_post("/api/v10/users/@me/channels", self._create_dm)
        app.router.add_post("/api/v10/channels/{channel}/messages", self._create_message)
        app.router.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        app.router.add_get("/attachments/{id}/{name}", self._cdn)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = _port_of(site)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        """The emulator's HTTP origin."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What ``BRIDGE_DISCORD_API_URL`` should be."""
        return f"{self.base}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What ``BRIDGE_DISCORD_GATEWAY_URL`` should be."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    # --- rate limits -------------------------------------------------------------------------------

    def limit(
        self,
        *,
        per_second: float | None = 50.0,
        burst: float | None = None,
        per_channel: int | None = 5,
        window: float = 5.0,
    ) -> None:
        """Enforce Discord's rate limits from now on; by default its real ones (50/s; 5 messages per 5 s a channel).

        ``per_second`` over every REST request but interaction callbacks (a token bucket of ``burst``, a tenth
        of a second's worth by default); ``per_channel`` messages per ``window`` seconds into one channel.
        Sends within the bucket carry its ``X-RateLimit-*`` headers; beyond either limit the answer is a 429
        with ``retry_after`` (seconds) and ``global``, as Discord's. ``rejected`` counts them.
        """
        chosen = burst if burst is not None else max(1.0, (per_second or 0) / 10)
        self._limits = Limits(per_second, chosen, per_channel, window, tokens=chosen, at=time.monotonic())

    # --- the citizen's side ----------------------------------------------------------------------

    def user(self, user_id: int, name: str = "Ada Lovelace") -> dict[str, Any]:
        """A Discord user (created on first use), with a DM channel to the bot."""
        if user_id not in self.users:
            self.users[user_id] = {
                "id": str(user_id),
                "username": name.lower().replace(" ", "_"),
                "global_name": name,
                "discriminator": "0",
                "avatar": None,
                "bot": False,
            }
            self.dm_channels[user_id] = next(self._ids)
        return self.users[user_id]

    def dm_channel(self, user_id: int) -> str:
        """The id of the DM channel between the bot and this user."""
        self.user(user_id)
        return str(self.dm_channels[user_id])

    def message(
        self,
        *,
        user_id: int,
        text: str,
        channel_id: str | None = None,
        guild_id: str | None = None,
        attachments: tuple[tuple[str, bytes, str], ...] = (),
        name: str = "Ada Lovelace",
    ) -> dict[str, Any]:
        """A message object as the gateway would carry it (a DM unless ``guild_id`` is given)."""
        author = self.user(user_id, name)
        data: dict[str, Any] = {
            "id": str(next(self._ids)),
            "channel_id": channel_id or self.dm_channel(user_id),
            "author": author,
            "content": text,
            "timestamp": _timestamp(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [self._attachment(*item) for item in attachments],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if guild_id is not None:
            data["guild_id"] = guild_id
            data["member"] = {"roles": [], "joined_at": _timestamp(), "deaf": False, "mute": False, "flags": 0}
        return data

    def _attachment(self, name: str, content: bytes, content_type: str) -> dict[str, Any]:
        attachment_id = str(next(self._ids))
        self._files[attachment_id] = content
        url = f"{self.base}/attachments/{attachment_id}/{name}"
        return {
            "id": attachment_id,
            "filename": name,
            "size": len(content),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    async def dm(
        self,
        user_id: int,
        text: str,
        *,
        attachments: tuple[tuple[str, bytes, str], ...] = (),
        name: str = "Ada Lovelace",
    ) -> dict[str, Any]:
        """The user writes to the bot by DM; returns the message object dispatched."""
        data = self.message(user_id=user_id, text=text, attachments=attachments, name=name)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The author edits a message; a full message object arrives as MESSAGE_UPDATE."""
        data = {**message, "content": text, "edited_timestamp": _timestamp()}
        await self.dispatch("MESSAGE_UPDATE", data)
        return data

    async def press(self, message: SentMessage, custom_id: str, *, user_id: int, locale: str = "en-GB") -> str:
        """The user (their Discord set to ``locale``) presses a button of a bot message in their DM."""
        user = self.user(user_id)
        interaction_id = str(next(self._ids))
        await self.dispatch(
            "INTERACTION_CREATE",
            {
                "id": interaction_id,
                "application_id": str(APPLICATION_ID),
                "type": 3,
                "token": f"ixtoken-{secrets.token_hex(8)}",
                "version": 1,
                "data": {"custom_id": custom_id, "component_type": 2},
                "channel_id": message.channel_id,
                "channel": {"id": message.channel_id, "type": 1, "recipients": [user]},
                "user": user,
                "locale": locale,
                "message": message.data,
                "app_permissions": "0",
                "entitlements": [],
                "authorizing_integration_owners": {"1": str(user_id)},
                "context": 1,
                "attachment_size_limit": 10 * 1024 * 1024,
            },
        )
        return interaction_id

    # --- the gateway -------------------------------------------------------------------------------

    async def wait_connected(self) -> None:
        """Return once a client has identified (or resumed) on the gateway (at most ten seconds)."""
        async with asyncio.timeout(10.0):
            await self._live.wait()

    @property
    def connected(self) -> bool:
        """Whether a client is connected to the gateway now."""
        return self._socket is not None and not self._socket.closed

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send one DISPATCH to the connected client; returns its sequence number."""
        await self.wait_connected()
        self._seq += 1
        await self._send({"op": 0, "t": event, "s": self._seq, "d": data})
        return self._seq

    async def drop_connection(self, *, replay: tuple[tuple[str, dict[str, Any]], ...] = ()) -> None:
        """Close the gateway socket as a network fault would; ``replay`` is sent again after the RESUME."""
        self.replay_on_resume = list(replay)
        self._live.clear()
        socket = self._socket
        assert socket is not None, "no client is connected"
        await socket.close(code=4000, message=b"emulated network fault")

    async def _send(self, payload: dict[str, Any]) -> None:
        socket = self._socket
        assert socket is not None, "no client is connected"
        text = json.dumps(payload)
        if self._compressor is not None:
            compressed = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
            await socket.send_bytes(compressed)
        else:
            await socket.send_str(text)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.connections.append(request.path_qs)
        self._socket = socket
        self._compressor = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        await self._send({"op": 10, "d": {"heartbeat_interval": self._heartbeat_interval}, "s": None, "t": None})
        async for frame in socket:
            payload = json.loads(frame.data)
            await self._gateway_op(payload["op"], payload.get("d"))
        if self._socket is socket:
            self._live.clear()
        return socket

    async def _gateway_op(self, op: int, data: Any) -> None:
        if op == 1:
            self.heartbeats += 1
            await self._send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            self.identifies.append(data)
            self._session = secrets.token_hex(16)
            self._seq += 1
            ready = {
                "v": 10,
                "user": {**self._bot_user(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [],
                "session_id": self._session,
                "resume_gateway_url": f"ws://127.0.0.1:{self._port}/resume-gateway",
                "application": {"id": str(APPLICATION_ID), "flags": 0},
                "private_channels": [],
            }
            await self._send({"op": 0, "t": "READY", "s": self._seq, "d": ready})
            self._live.set()
        elif op == 6:  # RESUME
            self.resumes.append(data)
            self._seq += 1
            await self._send({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
            self._live.set()
            replay, self.replay_on_resume = self.replay_on_resume, []
            for event, item in replay:
                await self.dispatch(event, item)

    # --- REST ----------------------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        needs_token = request.path.startswith("/api/") and "/interactions/" not in request.path
        if needs_token and request.headers.get("Authorization") != f"Bot {BOT_TOKEN}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        if needs_token:  # interaction callbacks are outside the global limit, as on Discord
            wait = self._limits.global_wait(time.monotonic())
            if wait > 0:
                self.rejected += 1
                return global_rate_limited(wait)
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPNotFound:
            return _json({"message": "404: Not Found", "code": 0}, status=404)
        return response

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": str(BOT_ID),
            "username": "civic-bridge",
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "bot": True,
        }

    async def _me(self, _request: web.Request) -> web.Response:
        return _json({**self._bot_user(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _application(self, _request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(APPLICATION_ID),
                "name": "Civic Bridge",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": {**self._bot_user(), "id": "4000000000000000003", "bot": False, "username": "owner"},
                "verify_key": "0" * 64,
                "flags": 0,
            }
        )

    async def _gateway_info(self, _request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        user_id = int(body["recipient_id"])
        user = self.user(user_id)
        return _json({"id": self.dm_channel(user_id), "type": 1, "recipients": [user], "last_message_id": None})

    async def _create_message(self, request: web.Request) -> web.Response:
        self.send_attempts += 1
        payload, files = await _read_message_payload(request)
        if self.failures:
            failure = self.failures.pop(0)
            return _json(failure.body, status=failure.status, headers=failure.headers)
        channel_id = request.match_info["channel"]
        now = time.monotonic()
        bucket = self._limits.channel_bucket(channel_id, now)
        headers: dict[str, str] = {}
        if bucket is not None:
            remaining, reset_after = bucket
            limit = self._limits.per_channel or 0
            if remaining < 0:
                self.rejected += 1
                return channel_rate_limited(limit, reset_after)
            headers = bucket_headers(limit, remaining, reset_after)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            remembered = self._nonces.get(str(nonce))
            if remembered is not None and now - remembered[0] < NONCE_MEMORY_SECONDS:
                return _json(remembered[1], headers=headers)
        message_id = str(next(self._ids))
        content = str(payload.get("content") or "")
        data = {
            "id": message_id,
            "channel_id": channel_id,
            "author": self._bot_user(),
            "content": content,
            "timestamp": _timestamp(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [self._attachment(name, data, "application/octet-stream") for name, data in files],
            "embeds": [],
            "components": payload.get("components") or [],
            "pinned": False,
            "type": 19 if payload.get("message_reference") else 0,
            "flags": 0,
            "nonce": nonce,
        }
        if nonce is not None:
            self._nonces[str(nonce)] = (now, data)
        self._posted(SentMessage(message_id, channel_id, content, payload, files, data))
        if self._live.is_set():  # Discord echoes the bot's own messages to it, as to any member
            await self.dispatch("MESSAGE_CREATE", data)
        return _json(data, headers=headers)

    def _posted(self, message: SentMessage) -> None:
        """A message was created (not a nonce's replay): kept in ``sent``; a subclass may count it instead."""
        self.sent.append(message)

    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.callbacks.append({"id": request.match_info["id"], **body})
        interaction = {
            "id": request.match_info["id"],
            "type": 3,
            "response_message_loading": False,
            "response_message_ephemeral": False,
        }
        return _json({"interaction": interaction, "resource": {"type": body["type"]}})

    async def _cdn(self, request: web.Request) -> web.Response:
        content = self._files.get(request.match_info["id"])
        if content is None:
            raise web.HTTPNotFound
        return web.Response(body=content, content_type="application/octet-stream")

    # --- what tests read ---------------------------------------------------------------------------

    def sent_to(self, user_id: int) -> list[SentMessage]:
        """The messages the bot sent into this user's DM channel, in order."""
        channel = self.dm_channel(user_id)
        return [message for message in self.sent if message.channel_id == channel]

    def texts_to(self, user_id: int) -> list[str]:
        """The contents of ``sent_to``."""
        return [message.content for message in self.sent_to(user_id)]


async def _read_message_payload(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """A message send's JSON payload and files, from a JSON body or a multipart form with ``payload_json``."""
    if request.content_type == JSON:
        return dict(await request.json()), []
    payload: dict[str, Any] = {}
    files: list[tuple[str, bytes]] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        data = await part.read()
        if part.name == "payload_json":
            payload = json.loads(data)
        elif part.name and part.name.startswith("files["):
            files.append((part.filename or "file", bytes(data)))
    return payload, files


def _port_of(site: web.TCPSite) -> int:
    """The port the operating system chose for ``site``."""
    server = site._server  # aiohttp keeps the listening server private
    assert isinstance(server, asyncio.Server)
    port: int = server.sockets[0].getsockname()[1]
    return port


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with ``Content-Type: application/json`` exactly (discord.py checks it so)."""
    all_headers = {**(headers or {}), "Content-Type": JSON}
    return web.Response(body=json.dumps(body).encode(), status=status, headers=all_headers)
