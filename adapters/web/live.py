"""Live updates: a hub of Server-Sent Event streams, keyed by web chat session or desk department."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

#: Events a slow connection may fall behind by before it is dropped (its page reconnects and catches up).
_BACKLOG = 100


class Hub:
    """Fans published events out to every open stream subscribed to a key."""

    def __init__(self, *, keepalive: float = 15.0) -> None:
        self._streams: dict[str, set[asyncio.Queue[str | None]]] = {}
        self._keepalive = keepalive
        self._closed = False

    def publish(self, key: str, event: dict[str, Any]) -> int:
        """Send ``event`` to every stream of ``key``; returns how many streams got it."""
        data = json.dumps(event, ensure_ascii=False)
        reached = 0
        for queue in list(self._streams.get(key, ())):
            try:
                queue.put_nowait(data)
                reached += 1
            except asyncio.QueueFull:
                self._drop(key, queue)
        return reached

    def connections(self, key: str) -> int:
        """How many streams are open for ``key``."""
        return len(self._streams.get(key, ()))

    def close(self) -> None:
        """End every stream (the server is shutting down)."""
        self._closed = True
        for key, queues in list(self._streams.items()):
            for queue in list(queues):
                self._drop(key, queue)

    def _drop(self, key: str, queue: asyncio.Queue[str | None]) -> None:
        self._streams.get(key, set()).discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    @contextlib.contextmanager
    def _subscribed(self, keys: tuple[str, ...]) -> Iterator[asyncio.Queue[str | None]]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=_BACKLOG)
        for key in keys:
            self._streams.setdefault(key, set()).add(queue)
        try:
            yield queue
        finally:
            for key in keys:
                streams = self._streams.get(key)
                if streams is not None:
                    streams.discard(queue)
                    if not streams:
                        del self._streams[key]

    async def stream(
        self,
        request: web.Request,
        keys: tuple[str, ...],
        *,
        decorate: Callable[[web.StreamResponse], None],
    ) -> web.StreamResponse:
        """Answer ``request`` with an event stream of everything published to ``keys``."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        decorate(response)
        if self._closed:
            response.set_status(503)
        await response.prepare(request)
        if self._closed:
            return response
        with self._subscribed(keys) as queue:
            try:
                await response.write(b"retry: 2000\n: connected\n\n")
                async for data in _items(queue, self._keepalive):
                    await response.write(f"data: {data}\n\n".encode() if data else b": keepalive\n\n")
            except ConnectionResetError:
                log.debug("event stream closed by the browser")
        return response


async def _items(queue: asyncio.Queue[str | None], keepalive: float) -> AsyncIterator[str]:
    """Queued events, with an empty string every ``keepalive`` seconds of silence; ends on None."""
    while True:
        try:
            item = await asyncio.wait_for(queue.get(), timeout=keepalive)
        except TimeoutError:
            yield ""
            continue
        if item is None:
            return
        yield item
