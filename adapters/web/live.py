"""Live updates: Server-Sent Event streams over ``bot.live.LiveEvents``, capped per session, address and in total."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.live import EventData, LiveEvents, LocalLiveEvents, Subscription

log = logging.getLogger(__name__)

#: What a refused stream is told to wait before trying again, in seconds.
_RETRY_AFTER = "10"
#: How often an idle stream checks that its page is still connected, in seconds.
_CHECK = 1.0
#: Turns an id-only event into what the page gets (None: nothing to send).
Render = Callable[[EventData], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class StreamCaps:
    """How many live streams one session, one client address, and the whole process may hold open."""

    per_session: int = 5
    per_address: int = 20
    total: int = 500


async def _as_is(data: EventData) -> dict[str, Any]:
    return dict(data)


class Hub:
    """Open event streams of one channel: subscribed through ``LiveEvents``, counted against ``StreamCaps``."""

    def __init__(
        self, *, live: LiveEvents | None = None, caps: StreamCaps | None = None, keepalive: float = 15.0
    ) -> None:
        self.live: LiveEvents = live or LocalLiveEvents()
        self._caps = caps or StreamCaps()
        self._keepalive = keepalive
        self._closed = False
        self._open: set[Subscription] = set()
        self._sessions: Counter[str] = Counter()
        self._addresses: Counter[str] = Counter()

    async def publish(self, topic: str, data: EventData) -> None:
        """Send an id-only event to the streams of ``topic`` in every process."""
        await self.live.publish(topic, data)

    def open_streams(self) -> int:
        """How many streams this channel holds open."""
        return len(self._open)

    def close(self) -> None:
        """End every stream (the server is shutting down)."""
        self._closed = True
        for subscription in list(self._open):
            subscription.close()

    def _refusal(self, session: str, address: str) -> web.Response | None:
        """The quick answer to a stream over a cap, or None when it may open."""
        if self._closed:
            return _refused(503, "The server is stopping.")
        if self._sessions[session] >= self._caps.per_session:
            return _refused(429, "Too many live pages are open for this session; close some tabs.")
        if self._addresses[address] >= self._caps.per_address:
            return _refused(429, "Too many live pages are open from this address.")
        if len(self._open) >= self._caps.total:
            return _refused(503, "The server has too many live pages open; try again shortly.")
        return None

    async def stream(  # each is a distinct fact about the stream
        self,
        request: web.Request,
        topics: tuple[str, ...],
        *,
        session: str,
        address: str,
        decorate: Callable[[web.StreamResponse], None],
        render: Render = _as_is,
    ) -> web.StreamResponse:
        """Answer ``request`` with an event stream of ``topics``, or 429/503 at once when a cap is reached."""
        refused = self._refusal(session, address)
        if refused is not None:
            decorate(refused)
            return refused
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        decorate(response)
        self._sessions[session] += 1
        self._addresses[address] += 1
        try:
            with self.live.subscribe(topics) as subscription:
                self._open.add(subscription)
                try:
                    await response.prepare(request)
                    await response.write(b"retry: 2000\n: connected\n\n")
                    await self._pump(request, response, subscription, render)
                finally:
                    self._open.discard(subscription)
        except ConnectionResetError:
            log.debug("event stream closed by the browser")
        finally:
            _down(self._sessions, session)
            _down(self._addresses, address)
        return response

    async def _pump(
        self, request: web.Request, response: web.StreamResponse, subscription: Subscription, render: Render
    ) -> None:
        """Write events as they come, a keepalive after each ``keepalive`` seconds of silence; end when the page left.

        The server does not cancel a handler whose browser went away, so the stream looks at its connection
        every ``_CHECK`` seconds: a closed page frees its place under the caps at once, not at the next write.
        """
        silent = 0.0
        while True:
            data = await subscription.next(min(_CHECK, self._keepalive))
            if data is None or request.transport is None or request.transport.is_closing():
                return
            if data:
                silent = 0.0
                event = await render(data)
                if event is not None:
                    await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
                continue
            silent += min(_CHECK, self._keepalive)
            if silent >= self._keepalive:
                silent = 0.0
                await response.write(b": keepalive\n\n")


def _down(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def _refused(status: int, message: str) -> web.Response:
    response = web.json_response({"error": message}, status=status, headers={"Retry-After": _RETRY_AFTER})
    response.headers["Cache-Control"] = "no-store"
    return response
