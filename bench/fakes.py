"""In-memory platforms for the core benchmarks: they answer at once and note when each send arrived."""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Generic

from bot.model import BodyT, Outgoing, Platform, PostKind, Sent, ThreadPost
from bot.ports import InboundSink

#: Benchmark messages carry a tag ``#<number>`` so a send can be matched with the event that caused it.
TAG = re.compile(r"#(\d+)")


class TimedPlatform(Generic[BodyT]):
    """A channel of either side that answers at once, counts sends and stamps tagged ones with ``perf_counter``."""

    def __init__(self, platform: Platform, *, on_send: Callable[[Outgoing[BodyT]], None] | None = None) -> None:
        self._platform = platform
        self._ids = itertools.count(1)
        self._on_send: Callable[[Outgoing[BodyT]], None] | None = on_send
        self.sink: InboundSink | None = None
        self.sends = 0
        self.kinds: Counter[str] = Counter()
        self.arrived: dict[int, float] = {}

    @property
    def platform(self) -> Platform:
        """The platform this fake stands for."""
        return self._platform

    def health(self) -> str:
        """Always up."""
        return "up"

    async def start(self, sink: InboundSink) -> None:
        """Remember the sink (nothing arrives by itself)."""
        self.sink = sink

    async def stop(self) -> None:
        """Nothing to close."""
        self.sink = None

    async def send(self, out: Outgoing[BodyT]) -> Sent:
        """Record the send; a thread root answers with a new thread id."""
        now = time.perf_counter()
        self.sends += 1
        self.kinds[str(out.body.kind)] += 1
        tag = TAG.search(out.body.text)
        if tag is not None:
            self.arrived.setdefault(int(tag.group(1)), now)
        if self._on_send is not None:
            self._on_send(out)
        message_id = f"{self._platform}-{next(self._ids)}"
        if isinstance(out.body, ThreadPost) and out.body.kind is PostKind.ROOT:
            return Sent(message_id=message_id, thread=message_id)
        return Sent(message_id=message_id)
