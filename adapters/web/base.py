"""What the web chat and the web desk share: served by the bridge's own HTTP server, live pages through ``bot.live``."""

from __future__ import annotations

from abc import ABC, abstractmethod

from aiohttp import web

from adapters.web.live import Hub, StreamCaps
from bot.live import LiveEvents
from bot.ports import InboundSink


class WebChannel(ABC):
    """The lifecycle of a channel on the bridge's HTTP server: up while the relay listens.

    ``start`` and ``stop`` only connect and disconnect the relay; ``mount`` adds
    the channel's routes and ends its live streams when the server shuts down.
    """

    def __init__(self, *, live: LiveEvents | None = None, caps: StreamCaps | None = None) -> None:
        self._hub = Hub(live=live, caps=caps)
        self._sink: InboundSink | None = None

    def health(self) -> str:
        """Up while the relay listens; the pages are served by the bridge's own HTTP server."""
        return "up" if self._sink is not None else "down: not started"

    async def start(self, sink: InboundSink) -> None:
        """Begin handing what people send to the relay."""
        self._sink = sink

    async def stop(self) -> None:
        """Stop accepting, and end every open live stream."""
        self._sink = None
        self._hub.close()

    def mount(self, app: web.Application) -> None:
        """Add this channel's routes; its live streams end when the server shuts down."""
        self._add_routes(app)
        app.on_shutdown.append(self._on_shutdown)

    @abstractmethod
    def _add_routes(self, app: web.Application) -> None:
        """Add the pages and endpoints of this channel."""

    async def _on_shutdown(self, _app: web.Application) -> None:
        self._hub.close()
