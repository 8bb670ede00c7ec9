"""The interfaces between the core and the platform adapters."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.events import InboundEvent
from bot.model import Outgoing, Platform, Sent


class InboundSink(Protocol):
    """Where adapters hand normalised events: the relay.

    ``accept`` returns once the event is stored (or recognised as a
    duplicate): only then may an adapter acknowledge it to the platform.
    """

    async def accept(self, event: InboundEvent) -> None:
        """Store the event and queue what it causes; a duplicate changes nothing."""


class Adapter(Protocol):
    """One platform connection. ``send`` raises ``DeliveryError`` on failure.

    ``start`` begins intake (events go to ``sink``), ``stop`` ends it; ``health``
    says how the connection stands ("up", "connecting", "down: …") for /healthz.
    """

    @property
    def platform(self) -> Platform:
        """The platform this adapter speaks for."""

    def health(self) -> str:
        """How the connection stands."""

    async def start(self, sink: InboundSink) -> None:
        """Connect and hand inbound events to ``sink``."""

    async def stop(self) -> None:
        """Stop intake and disconnect."""

    async def send(self, out: Outgoing) -> Sent:
        """Send one message; raise ``DeliveryError`` when it cannot be sent."""


class DeliveryError(Exception):
    """A send failed. ``permanent`` stops retries; ``retry_after`` is the platform's wish, in seconds."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@runtime_checkable
class WebMounted(Protocol):
    """An adapter that receives over the bridge's own HTTP server (webhooks, web chat, desk)."""

    def mount(self, app: web.Application) -> None:
        """Add this adapter's routes; called once, before the server starts."""


@runtime_checkable
class ExclusiveIntake(Protocol):
    """An adapter whose intake allows one consumer at a time (long polling, a gateway, Socket Mode).

    ``start`` makes it ready to send; the app calls ``start_intake`` only in the
    process that holds the platform's lease (see ``bot.leadership``), and
    ``stop_intake`` when that process loses or leaves it.
    """

    async def start_intake(self) -> None:
        """Begin receiving events."""

    async def stop_intake(self) -> None:
        """Stop receiving events; sending keeps working."""
