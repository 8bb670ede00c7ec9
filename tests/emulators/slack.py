"""A loopback Slack: the Web API methods the adapter calls, file hosting, Socket Mode, and signed event delivery.

The emulator speaks Slack's wire format on 127.0.0.1 so that the real slack-sdk
and slack-bolt run against it. It also plays Slack's part towards the bridge:
``deliver`` POSTs a signed Events API request, ``push`` sends a Socket Mode
envelope and records the acknowledgement.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from adapters.slack.signature import sign

BOT_TOKEN = "xoxb-test-bot-token"  # noqa: S105  # a fake token the emulator expects
APP_TOKEN = "xapp-test-app-token"  # noqa: S105  # a fake token the emulator expects
SIGNING_SECRET = "test-signing-secret"  # noqa: S105  # a fake secret for signing test requests
TEAM = "T0CIVIC"
APP_ID = "A0BRIDGE"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
USERS = {"U0GRACE": "Grace Officer", "U0ALAN": "Alan Clerk"}


@dataclass(frozen=True, slots=True)
class Failure:
    """What a failing Web API call answers: an HTTP status, a Slack error code, a Retry-After."""

    status: int = 200
    error: str = "internal_error"
    retry_after: int | None = None


def rate_limited(retry_after: int = 1) -> Failure:
    """Slack's 429 with a Retry-After header."""
    return Failure(429, "ratelimited", retry_after)


SERVER_ERROR = Failure(500, "internal_error")


def api_error(code: str) -> Failure:
    """An ``ok: false`` answer with this error code (HTTP 200, as Slack does)."""
    return Failure(200, code)


@dataclass
class Message:
    """A message in the emulated workspace."""

    channel: str
    ts: str
    text: str
    user: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None
    bot_id: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None

    def wire(self, *, with_metadata: bool = False) -> dict[str, Any]:
        """As conversations.history returns it (``metadata`` only when asked for, as ``include_all_metadata``)."""
        data: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text, "user": self.user}
        if with_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.bot_id:
            data["bot_id"] = self.bot_id
        return data


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the bot uploaded with files_upload_v2."""

    channel: str | None
    thread_ts: str | None
    filename: str
    title: str | None
    data: bytes


class SlackEmulator:
    """The Slack Web API, file hosting and Socket Mode on a loopback port; records what the bot did."""

    def __init__(self, *, channels: Iterable[str], users: Mapping[str, str] = USERS) -> None:
        self.channels: dict[str, dict[str, Any]] = {
            c: {"id": c, "name": c.lower(), "is_archived": False} for c in channels
        }
        self.users = dict(users)
        self.messages: list[Message] = []
        self.posts: list[Message] = []
        self.updates: list[Message] = []
        self.reactions: list[tuple[str, str, str]] = []
        self.uploads: list[Upload] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.downloads: list[str] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.views: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self._failures: dict[str, list[Failure]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._hosted: dict[str, bytes] = {}
        self._pending_uploads: dict[str, tuple[str, bytes | None]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._file)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for gate in self._holds.values():  # answer whatever a test still held
            gate.set()
        for ws in list(self.sockets):
            await ws.close()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The Web API base, for ``BRIDGE_SLACK_API_URL``."""
        return f"{self.url}/api/"

    def fail_next(self, method: str, *failures: Failure) -> None:
        """The next calls of ``method`` answer these failures, in order."""
        self._failures.setdefault(method, []).extend(failures)

    def hold(self, method: str) -> asyncio.Event:
        """From now on ``method`` does its work at once but answers only once the returned event is set.

        With ``chat.postMessage``: the message is in the channel (staff see it and can reply) while
        the bot still waits for its ``ts`` — Slack slow to answer.
        """
        gate = self._holds[method] = asyncio.Event()
        return gate

    def next_ts(self) -> str:
        """A fresh message timestamp."""
        return f"1700000000.{next(self._ts):06d}"

    # --- what tests read -------------------------------------------------------------------

    def roots(self, channel: str | None = None) -> list[Message]:
        """The bot's top-level posts (thread roots), optionally in one channel."""
        return [m for m in self.posts if m.thread_ts is None and (channel is None or m.channel == channel)]

    def thread(self, root: Message) -> list[Message]:
        """The bot's replies in a root's thread."""
        return [m for m in self.posts if m.channel == root.channel and m.thread_ts == root.ts]

    def message(self, channel: str, ts: str) -> Message | None:
        """A message by channel and ts, as it stands now (edits applied)."""
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def called(self, method: str) -> int:
        """How often the bot called ``method``."""
        return sum(1 for name, _ in self.calls if name == method)

    # --- the Web API -----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else str(params.pop("token", ""))
        self.calls.append((method, params))
        wanted = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != wanted:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        answer: dict[str, Any] = handler(params)
        gate = self._holds.get(method)
        if gate is not None:
            await gate.wait()
        return web.json_response(answer)

    def _channel_problem(self, channel: object) -> dict[str, Any] | None:
        found = self.channels.get(str(channel))
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        if found["is_archived"]:
            return {"ok": False, "error": "is_archived"}
        return None

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        del params
        return {
            "ok": True,
            "url": "https://civic.slack.com/",
            "team": "Civic",
            "user": "civic-bridge",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        del params
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = self._channel_problem(params.get("channel"))
        return problem or {"ok": True, "channel": {**self.channels[str(params["channel"])], "is_member": True}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user"))
        name = self.users.get(user)
        if name is None:
            return {"ok": False, "error": "user_not_found"}
        handle = name.split()[0].lower()
        profile = {"real_name": name, "display_name": handle}
        return {"ok": True, "user": {"id": user, "name": handle, "real_name": name, "profile": profile}}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802  # named after the method
        problem = self._channel_problem(params.get("channel"))
        if problem:
            return problem
        text = params.get("text")
        if not text and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = Message(
            channel=str(params["channel"]),
            ts=self.next_ts(),
            text=str(text or ""),
            user=BOT_USER,
            thread_ts=params.get("thread_ts"),
            blocks=blocks,
            bot_id=BOT_ID,
            metadata=metadata,
        )
        self.messages.append(message)
        self.posts.append(message)
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": message.wire()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = self._channel_problem(params.get("channel"))
        if problem:
            return problem
        message = self.message(str(params["channel"]), str(params.get("ts")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = params.get("blocks")
        message.blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        message.text = str(params.get("text") or message.text)
        self.updates.append(Message(message.channel, message.ts, message.text, message.user, None, message.blocks))
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """A modal opens for the person whose trigger it answers (a trigger is good once)."""
        trigger = str(params.get("trigger_id") or "")
        if not trigger or trigger in {v["trigger_id"] for v in self.views}:
            return {"ok": False, "error": "invalid_trigger_id" if trigger else "invalid_arguments"}
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        opened = {**view, "id": f"V{next(self._ids):08d}", "trigger_id": trigger, "state": {"values": {}}}
        self.views.append(opened)
        return {"ok": True, "view": opened}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = self._channel_problem(params.get("channel"))
        if problem:
            return problem
        oldest = float(params.get("oldest", 0))
        latest = float(params.get("latest", 9e12))
        with_metadata = str(params.get("include_all_metadata", "")).lower() in {"1", "true"}
        found = [
            m.wire(with_metadata=with_metadata)
            for m in self.messages
            if m.channel == params["channel"] and m.thread_ts is None and oldest <= float(m.ts) <= latest
        ]
        return {"ok": True, "messages": list(reversed(found))[: int(params.get("limit", 100))], "has_more": False}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = self._channel_problem(params.get("channel"))
        if problem:
            return problem
        ts = str(params.get("ts"))
        parent = self.message(str(params["channel"]), ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = str(params.get("include_all_metadata", "")).lower() in {"1", "true"}
        replies = [m for m in self.messages if m.channel == parent.channel and m.thread_ts == ts and m is not parent]
        found = [m.wire(with_metadata=with_metadata) for m in [parent, *replies]]
        return {"ok": True, "messages": found[: int(params.get("limit", 1000))], "has_more": False}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        problem = self._channel_problem(params.get("channel"))
        if problem:
            return problem
        key = (str(params["channel"]), str(params.get("timestamp")), str(params.get("name")))
        if self.message(key[0], key[1]) is None:
            return {"ok": False, "error": "message_not_found"}
        if key in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.append(key)
        return {"ok": True}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802  # the method's name
        file_id = f"F{next(self._ids):06d}"
        self._pending_uploads[file_id] = (str(params.get("filename")), None)
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802  # the method's name
        files = json.loads(str(params.get("files", "[]")))
        done = []
        for entry in files:
            filename, data = self._pending_uploads.pop(entry["id"], ("", None))
            if data is None:
                return {"ok": False, "error": "file_not_found"}
            channel = params.get("channel_id")
            if channel is not None and (problem := self._channel_problem(channel)):
                return problem
            self.uploads.append(Upload(channel, params.get("thread_ts"), filename, entry.get("title"), data))
            done.append({"id": entry["id"], "title": entry.get("title"), "name": filename})
        return {"ok": True, "files": done}

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        if file_id not in self._pending_uploads:
            return web.Response(status=404, text="unknown upload")
        filename, _ = self._pending_uploads[file_id]
        data = await request.read()
        self._pending_uploads[file_id] = (filename, data)
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    # --- files staff attach --------------------------------------------------------------

    def host_file(self, name: str, data: bytes, mimetype: str = "application/octet-stream") -> dict[str, Any]:
        """A file as it appears in a message event's ``files``; fetching it needs the bot token."""
        file_id = f"F{next(self._ids):06d}"
        self._hosted[file_id] = data
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": f"{self.url}/files/{file_id}/{name}",
            "url_private_download": f"{self.url}/files/{file_id}/{name}?download=1",
        }

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        self.downloads.append(file_id)
        if request.headers.get("Authorization") != f"Bearer {BOT_TOKEN}":
            return web.Response(status=403, text="not allowed")
        data = self._hosted.get(file_id)
        if data is None:
            return web.Response(status=404, text="no such file")
        return web.Response(body=data, content_type="application/octet-stream")

    # --- what staff do: events as Slack sends them ----------------------------------------

    def _envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "enterprise_id": None}],
        }

    def staff_message(
        self,
        channel: str,
        text: str,
        *,
        thread_ts: str | None,
        user: str = "U0GRACE",
        subtype: str | None = None,
        bot_id: str | None = None,
        files: Iterable[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Someone writes in a channel (a thread if ``thread_ts``); returns the event callback body."""
        ts = self.next_ts()
        attached = list(files)
        self.messages.append(Message(channel, ts, text, user, thread_ts, None, bot_id, attached))
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "team": TEAM,
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
            event["parent_user_id"] = BOT_USER
        if subtype is not None:
            event["subtype"] = subtype
        if bot_id is not None:
            event["bot_id"] = bot_id
            event["username"] = "Other Bot"
        if attached:
            event["files"] = attached
            event.setdefault("subtype", "file_share")
        return self._envelope(event)

    def staff_edit(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        """Someone edits their message; returns the ``message_changed`` event callback."""
        message = self.message(channel, ts)
        assert message is not None
        previous = {"type": "message", "user": message.user, "text": message.text, "ts": ts}
        if message.thread_ts:
            previous["thread_ts"] = message.thread_ts
        message.text = text
        now = self.next_ts()
        event = {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel,
            "hidden": True,
            "ts": now,
            "event_ts": now,
            "message": {**previous, "text": text, "edited": {"user": message.user, "ts": now}},
            "previous_message": previous,
        }
        return self._envelope(event)

    def staff_delete(self, channel: str, ts: str) -> dict[str, Any]:
        """Someone deletes their message; returns the ``message_deleted`` event callback."""
        message = self.message(channel, ts)
        assert message is not None
        self.messages.remove(message)
        previous = {"type": "message", "user": message.user, "text": message.text, "ts": ts}
        if message.thread_ts:
            previous["thread_ts"] = message.thread_ts
        now = self.next_ts()
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "channel": channel,
            "hidden": True,
            "ts": now,
            "event_ts": now,
            "deleted_ts": ts,
            "previous_message": previous,
        }
        return self._envelope(event)

    def button(
        self, root: Message, action_id: str, *, user: str = "U0GRACE", selected: str | None = None
    ) -> dict[str, Any]:
        """Someone uses a control on a root's card; returns the ``block_actions`` payload."""
        now = f"{time.time():.6f}"
        action: dict[str, Any] = {"action_id": action_id, "block_id": "case_actions", "action_ts": now}
        if selected is None:
            action |= {"type": "button", "value": "ref", "text": {"type": "plain_text", "text": action_id}}
        else:
            option = {"text": {"type": "plain_text", "text": selected}, "value": selected}
            action |= {"type": "static_select", "selected_option": option}
        return {
            "type": "block_actions",
            "user": {"id": user, "username": "grace", "name": "grace", "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": root.ts, "channel_id": root.channel, "is_ephemeral": False},
            "trigger_id": f"{next(self._ids)}.{TEAM}.trigger",
            "team": {"id": TEAM, "domain": "civic"},
            "channel": {"id": root.channel, "name": root.channel.lower()},
            "message": root.wire(),
            "response_url": f"{self.url}/respond/{next(self._ids)}",
            "actions": [action],
        }

    def slash_command(
        self, channel: str, command: str = "/consult", *, text: str = "", user: str = "U0GRACE"
    ) -> dict[str, str]:
        """Someone runs a slash command in ``channel``: the form fields Slack posts (or puts in a socket envelope)."""
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "civic",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": self.users.get(user, user).split()[0].lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": f"{self.url}/respond/{next(self._ids)}",
            "trigger_id": f"{next(self._ids)}.{TEAM}.trigger",
        }

    def view_submission(
        self, view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]], *, user: str = "U0GRACE"
    ) -> dict[str, Any]:
        """Someone presses Send on an opened modal; ``values`` are its state by block id (action id ``value``)."""
        state = {"values": {block: {"value": dict(value)} for block, value in values.items()}}
        return {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "civic"},
            "user": {"id": user, "username": "grace", "name": "grace", "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": f"{next(self._ids)}.{TEAM}.trigger",
            "view": {**view, "state": state},
            "response_urls": [],
        }

    # --- delivering to the bridge: Events API over HTTP ----------------------------------

    async def deliver(
        self,
        url: str,
        payload: Mapping[str, Any],
        *,
        interactive: bool = False,
        form: bool = False,
        retry_num: int | None = None,
        timestamp: int | None = None,
        secret: str | None = SIGNING_SECRET,
        raw: bytes | None = None,
    ) -> tuple[int, str]:
        """POST a payload to the bridge as Slack does (signed unless ``secret`` is None); returns status and body.

        ``raw`` replaces the encoded payload with these exact bytes (for requests Slack would never send).
        """
        assert self._client is not None
        if interactive:
            body = urlencode({"payload": json.dumps(payload)}).encode()
            content_type = "application/x-www-form-urlencoded"
        elif form:  # a slash command: flat form fields
            body = urlencode(dict(payload)).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(payload).encode()
            content_type = "application/json"
        if raw is not None:
            body = raw
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp}
        if secret is not None:
            headers["X-Slack-Signature"] = sign(secret, stamp, body)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        async with self._client.post(url, data=body, headers=headers) as response:
            return response.status, await response.text()

    # --- Socket Mode -----------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        await ws.send_json(hello)
        try:
            async for frame in ws:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(frame.data)
                    if isinstance(data, dict) and "envelope_id" in data:
                        self.acks[str(data["envelope_id"])] = data
        finally:
            self.sockets.remove(ws)
        return ws

    async def push(self, payload: Mapping[str, Any], *, kind: str = "events_api") -> str:
        """Send a Socket Mode envelope on the open connection; returns its envelope id."""
        assert self.sockets, "no Socket Mode connection is open"
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": dict(payload),
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self.sockets[-1].send_json(envelope)
        return envelope_id
