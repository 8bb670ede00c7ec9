"""A loopback emulation of the Telegram Bot API for end-to-end tests (aiohttp on 127.0.0.1).

It speaks the wire format python-telegram-bot uses: form-encoded or multipart
parameters (strings; nested objects JSON-encoded) at ``/bot<token>/<method>``,
``{"ok": true, "result": …}`` answers, errors with ``error_code``,
``description`` and ``parameters.retry_after``, and file downloads at
``/file/bot<token>/<path>``. Tests push updates, inject failures and read
back every call the bot made.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

TOKEN = "123456:TEST-emulated-token"  # noqa: S105  # a made-up token for the emulator
BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Civic Bridge", "username": "civic_bridge_bot"}


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer the emulator gives instead of running a method."""

    status: int
    description: str
    retry_after: int | None = None


def too_many_requests(retry_after: int = 1) -> Failure:
    """Telegram's flood-control answer."""
    return Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after)


BLOCKED = Failure(403, "Forbidden: bot was blocked by the user")
DEACTIVATED = Failure(403, "Forbidden: user is deactivated")
CHAT_NOT_FOUND = Failure(400, "Bad Request: chat not found")
SERVER_ERROR = Failure(500, "Internal Server Error")


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request the bot made: the method, its string parameters and uploaded files."""

    method: str
    params: dict[str, str]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def json(self, name: str) -> Any:
        """A parameter the client JSON-encoded (reply_markup, allowed_updates, commands)."""
        return json.loads(self.params[name])


class TelegramEmulator:
    """The Bot API on a random loopback port. Use as ``async with TelegramEmulator() as telegram:``."""

    def __init__(self, *, token: str = TOKEN, record_calls: bool = True) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._record_calls = record_calls
        self.sends = 0  # messages, photos and documents accepted
        self.rejected = 0  # sends answered 429 by the rate limits of ``limit``
        self._per_second: float | None = None
        self.burst = 1.0
        self._bucket = (0.0, 0.0)  # (tokens, at)
        self._per_chat_interval: float | None = None
        self._last_in_chat: dict[str, float] = {}
        self.webhook: dict[str, str] | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(5001)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self._failures: dict[str, list[Failure]] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.confirmed = 0  # every update below this id was confirmed by an offset

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._closing = True
        self._notify()  # release parked long polls so the server can close
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """What goes in ``BRIDGE_TELEGRAM_API_URL`` (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what tests do ---------------------------------------------------------------------------

    def limit(
        self, *, per_second: float | None = None, burst: float | None = None, per_chat_interval: float | None = None
    ) -> None:
        """Enforce Telegram's flood limits on sends, as a bulk broadcast meets them.

        ``per_second`` overall (a token bucket of ``burst``, a tenth of a second's worth by default) and
        ``per_chat_interval`` seconds between two sends to one chat. Beyond them a send is answered 429
        with ``retry_after`` in whole seconds, as Telegram does.
        """
        self._per_second = per_second
        self.burst = burst if burst is not None else max(1.0, (per_second or 0) / 10)
        self._bucket = (self.burst, time.monotonic())
        self._per_chat_interval = per_chat_interval

    def _flood_wait(self, chat: str) -> float:
        """0 if a send to ``chat`` may go now (counted); else the seconds until it may."""
        now = time.monotonic()
        if self._per_chat_interval is not None:
            last = self._last_in_chat.get(chat)
            if last is not None and now - last < self._per_chat_interval:
                return self._per_chat_interval - (now - last)
        if self._per_second is not None:
            tokens, at = self._bucket
            tokens = min(self.burst, tokens + (now - at) * self._per_second)
            if tokens < 1:
                self._bucket = (tokens, now)
                return (1 - tokens) / self._per_second
            self._bucket = (tokens - 1, now)
        if self._per_chat_interval is not None:
            self._last_in_chat[chat] = now
        return 0.0

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of ``method`` get these answers, in order, before it works again."""
        self._failures.setdefault(method, []).extend(failures)

    def add_file(self, data: bytes, *, folder: str = "photos", suffix: str = "jpg") -> dict[str, Any]:
        """Store a file the bot may fetch with getFile; returns its Bot API description."""
        number = next(self._file_ids)
        file_id = f"FILE{number}"
        self._files[file_id] = (f"{folder}/file_{number}.{suffix}", data)
        return {"file_id": file_id, "file_unique_id": f"U{number}", "file_size": len(data)}

    def user(
        self, user: int, *, first_name: str = "Ada", last_name: str = "Citizen", language_code: str = "en"
    ) -> dict[str, Any]:
        """A citizen's account (``language_code``: the language their Telegram app is set to)."""
        return {
            "id": user,
            "is_bot": False,
            "first_name": first_name,
            "last_name": last_name,
            "language_code": language_code,
        }

    def message(
        self,
        *,
        user: int = 111,
        chat: int | None = None,
        chat_type: str = "private",
        language_code: str = "en",
        **content: Any,
    ) -> dict[str, Any]:
        """A message as Telegram describes it; ``content`` holds text, photo, document and so on."""
        chat_id = chat if chat is not None else user
        chat_object: dict[str, Any] = {"id": chat_id, "type": chat_type}
        chat_object.update({"first_name": "Ada"} if chat_type == "private" else {"title": "Neighbours"})
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat_object,
            "from": self.user(user, language_code=language_code),
            **content,
        }

    def update(self, **payload: Any) -> dict[str, Any]:
        """An update (``message=…``, ``edited_message=…``, ``callback_query=…``) with a fresh id."""
        return {"update_id": next(self._update_ids), **payload}

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (again, if it was delivered before: a redelivery)."""
        self._updates.append(update)
        self._notify()
        return int(update["update_id"])

    def push_message(self, **kwargs: Any) -> dict[str, Any]:
        """A citizen sends a message; returns the update."""
        update = self.update(message=self.message(**kwargs))
        self.push(update)
        return update

    def push_callback(
        self, *, user: int = 111, data: str, message_id: int = 1, language_code: str = "en"
    ) -> dict[str, Any]:
        """A citizen presses an inline button under one of the bot's messages."""
        message = {"message_id": message_id, "date": int(time.time()), "chat": {"id": user, "type": "private"}}
        query = {
            "id": f"q{next(self._message_ids)}",
            "from": self.user(user, language_code=language_code),
            "chat_instance": "ci1",
            "message": {**message, "from": BOT_USER, "text": "Which office?"},
            "data": data,
        }
        update = self.update(callback_query=query)
        self.push(update)
        return update

    # --- what tests read -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every call of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def sent_to(self, chat: int) -> list[Call]:
        """Every sendMessage, sendPhoto and sendDocument to one chat, in order."""
        methods = {"sendMessage", "sendPhoto", "sendDocument"}
        return [call for call in self.calls if call.method in methods and call.params.get("chat_id") == str(chat)]

    def texts_to(self, chat: int) -> list[str]:
        """The texts of the messages sent to one chat."""
        return [call.params["text"] for call in self.sent_to(chat) if call.method == "sendMessage"]

    # --- the API -----------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(Failure(401, "Unauthorized"))
        method = request.match_info["method"]
        params, files = await _parameters(request)
        if self._record_calls:
            self.calls.append(Call(method, params, files))
        queued = self._failures.get(method)
        if queued:
            return _error(queued.pop(0))
        if method in _SENDS:
            wait = self._flood_wait(params.get("chat_id", ""))
            if wait > 0:
                self.rejected += 1
                return _error(too_many_requests(max(1, math.ceil(wait))))
            self.sends += 1
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(Failure(404, "Not Found: method not found"))
        result = await handler(params, files)
        if isinstance(result, Failure):
            return _error(result)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        wanted = request.match_info["path"]
        for path, data in self._files.values():
            if path == wanted:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    async def _m_getMe(self, _params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        return BOT_USER

    async def _m_deleteWebhook(self, _params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        self.webhook = params
        return True

    async def _m_setMyCommands(self, _params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        return True

    async def _m_answerCallbackQuery(self, _params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        return True

    async def _m_editMessageReplyMarkup(self, _params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        return True

    async def _m_getUpdates(self, params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            self.confirmed = max(self.confirmed, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or remaining <= 0 or self._closing:
                return ready
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)

    async def _m_getFile(self, params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        file_id = params["file_id"]
        if file_id not in self._files:
            return Failure(400, "Bad Request: invalid file_id")
        path, data = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_size": len(data), "file_path": path}

    async def _m_sendMessage(self, params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        return self._sent(params, text=params.get("text", ""))

    async def _m_sendPhoto(self, params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        photo = [{"file_id": f"out{next(self._file_ids)}", "file_unique_id": "o", "width": 1, "height": 1}]
        return self._sent(params, photo=photo)

    async def _m_sendDocument(self, params: dict[str, str], _files: object) -> Any:  # noqa: N802  # Bot API name
        return self._sent(params, document={"file_id": f"out{next(self._file_ids)}", "file_unique_id": "o"})

    def _sent(self, params: dict[str, str], **content: Any) -> dict[str, Any]:
        chat = int(params["chat_id"])
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
            "from": BOT_USER,
            **content,
        }


_SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


async def _parameters(request: web.Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Form fields as strings and uploads as (filename, bytes), however the client encoded them."""
    params: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        for key, value in body.items():
            params[key] = value if isinstance(value, str) else json.dumps(value)
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = (value.filename, value.file.read())
        else:
            params[key] = str(value)
    return params, files


def _error(failure: Failure) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
    if failure.retry_after is not None:
        body["parameters"] = {"retry_after": failure.retry_after}
    return web.json_response(body, status=failure.status)
