"""The interfaces the core declares: what it needs from the router and from each side's platform channels."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from aiohttp import web

from bot.events import InboundEvent
from bot.model import Address, CitizenReply, Outgoing, Platform, Sent, ThreadPost


class RouteDecision(Protocol):
    """Where a first message goes; ``department`` None means: ask the citizen among ``candidates``."""

    @property
    def department(self) -> str | None:
        """The chosen department's key, or None when unsure."""

    @property
    def confidence(self) -> float:
        """How sure the router is, from 0 to 1."""

    @property
    def reason(self) -> str:
        """Why, in words an admin understands."""

    @property
    def candidates(self) -> tuple[str, ...]:
        """The departments to offer when unsure, best first."""

    @property
    def language(self) -> str | None:
        """The language identified in the text, else the locale the caller gave, else None."""


class RoutingPolicy(Protocol):
    """Chooses a department for a citizen's first message (``routing.router.Router`` is the real one)."""

    def route(self, text: str, *, language: str | None = None) -> RouteDecision:
        """Decide where a first message goes."""

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> Sequence[RouteDecision]:
        """Decide where each ``(text, language)`` goes, as ``route`` would one by one (batched: cheaper per text)."""


class RelayObserver(Protocol):
    """Counts what the relay did (metrics), once each transaction has committed."""

    def message_in(self, platform: str) -> None:
        """An inbound event was accepted."""

    def routed(self, department: str) -> None:
        """A case was routed to a department."""


class InboundSink(Protocol):
    """Where channels hand normalised events: the relay.

    ``accept`` returns once the event is stored (or recognised as a
    duplicate): only then may a channel acknowledge it to the platform.
    """

    async def accept(self, event: InboundEvent) -> None:
        """Store the event and queue what it causes; a duplicate changes nothing."""


class Channel(Protocol):
    """One platform connection, either side. ``start`` begins intake (events go to ``sink``), ``stop`` ends it.

    ``health`` says how the connection stands ("up", "connecting", "down: …") for /healthz.
    """

    @property
    def platform(self) -> Platform:
        """The platform this channel speaks for."""

    def health(self) -> str:
        """How the connection stands."""

    async def start(self, sink: InboundSink) -> None:
        """Connect and hand inbound events to ``sink``."""

    async def stop(self) -> None:
        """Stop intake and disconnect."""


class CitizenChannel(Channel, Protocol):
    """Where citizens write (Telegram, Discord, the web chat): it carries replies to a citizen's chat."""

    async def send(self, out: Outgoing[CitizenReply]) -> Sent:
        """Send one reply; raise ``DeliveryError`` when it cannot be sent."""


class DepartmentChannel(Channel, Protocol):
    """Where departments answer (Slack, the web desk): it carries posts into a case's thread."""

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        """Send one thread post (a ROOT opens the thread); raise ``DeliveryError`` when it cannot be sent."""


@dataclass(frozen=True, slots=True)
class Channels:
    """Every channel the bridge runs, by side and platform; the delivery worker sends through them."""

    citizen: Mapping[Platform, CitizenChannel] = field(default_factory=dict)
    department: Mapping[Platform, DepartmentChannel] = field(default_factory=dict)

    @classmethod
    def of(cls, citizen: tuple[CitizenChannel, ...] = (), department: tuple[DepartmentChannel, ...] = ()) -> Channels:
        """The channels given, keyed by their platform (a later one replaces an earlier one of its platform)."""
        return cls({c.platform: c for c in citizen}, {d.platform: d for d in department})

    def __iter__(self) -> Iterator[Channel]:
        """Citizen channels first, then department channels."""
        yield from self.citizen.values()
        yield from self.department.values()

    def by_platform(self) -> dict[Platform, Channel]:
        """Every channel keyed by platform (platform names differ across the sides)."""
        return {channel.platform: channel for channel in self}


class DeliveryError(Exception):
    """A send failed. ``permanent`` stops retries; ``retry_after`` is the platform's wish, in seconds.

    ``gone`` (with ``permanent``): the recipient cannot be reached any more (blocked the bot, account deleted).
    """

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None, gone: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.gone = gone


@runtime_checkable
class WebMounted(Protocol):
    """A channel that receives over the bridge's own HTTP server (webhooks, web chat, desk)."""

    def mount(self, app: web.Application) -> None:
        """Add this channel's routes; called once, before the server starts."""


@runtime_checkable
class ExclusiveIntake(Protocol):
    """A channel whose intake allows one consumer at a time (long polling, a gateway, Socket Mode).

    ``start`` makes it ready to send; the app calls ``start_intake`` only in the
    process that holds the platform's lease (see ``bot.leadership``), and
    ``stop_intake`` when that process loses or leaves it.
    """

    async def start_intake(self) -> None:
        """Begin receiving events."""

    async def stop_intake(self) -> None:
        """Stop receiving events; sending keeps working."""


@runtime_checkable
class ThreadOwner(Protocol):
    """A department channel that can say which case a thread belongs to from the thread's root itself.

    Used when a staff event arrives in a thread the bridge has not recorded yet (the root was
    posted but its id not stored: a slow answer, a crash): the root carries the case reference.
    """

    async def case_reference(self, thread: Address) -> str | None:
        """The reference of the case whose root opens ``thread``; None if it is not a bridge case thread."""


def thread_owner_in(channels: Callable[[], Channels]) -> Callable[[Platform], ThreadOwner | None]:
    """The relay's ``thread_owner``: the department channel of a platform, if it can read thread roots.

    ``channels`` is asked each time: the app builds its channels after the relay.
    """

    def owner(platform: Platform) -> ThreadOwner | None:
        channel = channels().department.get(platform)
        return channel if isinstance(channel, ThreadOwner) else None

    return owner
