"""The bridge with its REAL Telegram and Slack adapters, against the loopback emulators of tests/emulators.

The emulators are subclassed only to stamp, with ``perf_counter``, when a tagged
message reached them, and (for the burst) to enforce Slack's per-channel rate
limit with a token bucket and 429 + Retry-After beyond it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from adapters.slack import from_settings as slack_from_settings
from adapters.telegram import from_settings as telegram_from_settings
from bench.fakes import TAG
from bot.delivery import DeliveryWorker
from bot.departments import Directory
from bot.ports import Channel, Channels, CitizenChannel, DepartmentChannel, ExclusiveIntake
from bot.relay import Relay
from bot.storage.store import Store
from config.settings import Settings
from routing.router import Router
from tests.emulators.slack import BOT_TOKEN, SIGNING_SECRET, SlackEmulator
from tests.emulators.telegram import TelegramEmulator

_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def no_proxies() -> None:
    """slack-sdk reads HTTP(S)_PROXY and ignores NO_PROXY: loopback traffic must not go to a proxy."""
    for name in _PROXIES:
        os.environ.pop(name, None)


def _tag(*texts: object) -> int | None:
    for text in texts:
        found = TAG.search(text if isinstance(text, str) else json.dumps(text))
        if found is not None:
            return int(found.group(1))
    return None


class TimedTelegram(TelegramEmulator):
    """The Bot API emulator, noting when each tagged sendMessage arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[int, float] = {}

    async def _m_sendMessage(self, params: dict[str, str], files: object) -> Any:  # noqa: N802, ANN401  # Bot API name; JSON
        tag = _tag(params.get("text", ""))
        if tag is not None:
            self.arrived.setdefault(tag, time.perf_counter())
        return await super()._m_sendMessage(params, files)


class RateLimitedError(Exception):
    """Over the channel's rate: answer 429 with Retry-After ``wait`` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.3f}s")
        self.wait = wait


class TimedSlack(SlackEmulator):
    """The Slack emulator, noting when each tagged chat.postMessage arrived; optionally rate-limited per channel.

    ``rate`` messages a second per channel with bursts of ``burst``; beyond that
    chat.postMessage answers 429 with Retry-After (whole seconds, as Slack does,
    unless the emulated rate is faster than one a second).
    """

    def __init__(self, *, channels: Iterable[str], rate: float | None = None, burst: int = 3) -> None:
        super().__init__(channels=channels)
        self.arrived: dict[int, float] = {}
        self.received: Counter[int] = Counter()
        self.rejected = 0
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def _take(self, channel: str) -> float:
        """0 if a message may go to ``channel`` now (a token is spent); else seconds until one may."""
        assert self._rate is not None  # only called when limiting
        now = time.monotonic()
        tokens, at = self._buckets.get(channel, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - at) * self._rate)
        if tokens >= 1:
            self._buckets[channel] = (tokens - 1, now)
            return 0.0
        self._buckets[channel] = (tokens, now)
        return (1 - tokens) / self._rate

    async def _api(self, request: web.Request) -> web.StreamResponse:
        try:
            return await super()._api(request)
        except RateLimitedError as limited:
            self.rejected += 1
            assert self._rate is not None  # only raised when limiting
            retry = str(math.ceil(limited.wait)) if self._rate <= 1 else f"{limited.wait:.3f}"
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": retry})

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802  # named after the method
        if self._rate is not None:
            wait = self._take(str(params.get("channel")))
            if wait > 0:
                raise RateLimitedError(wait)
        answer = super()._chat_postMessage(params)
        tag = _tag(params.get("text") or "", params.get("blocks") or "")
        if answer.get("ok") and tag is not None:
            self.received[tag] += 1
            self.arrived.setdefault(tag, time.perf_counter())
        return answer


@dataclass
class Bridged:
    """The running bridge between the emulators."""

    relay: Relay
    worker: DeliveryWorker
    events_url: str
    adapters: Sequence[Channel]


@asynccontextmanager
async def bridged(
    store: Store,
    *,
    directory: Directory,
    router: Router,
    slack: SlackEmulator,
    telegram: TelegramEmulator | None,
    extra: Sequence[CitizenChannel] = (),
) -> AsyncIterator[Bridged]:
    """The real relay and worker with the real adapters (built by their ``from_settings``) on a loopback server."""
    settings = Settings(
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=slack.api_url,
        telegram_token=SecretStr(telegram.token) if telegram else None,
        telegram_api_url=telegram.api_url if telegram else "http://127.0.0.1:9/bot",
    )
    citizen: list[CitizenChannel] = list(extra)
    if telegram is not None:
        citizen.append(telegram_from_settings(settings, directory=directory))
    department: list[DepartmentChannel] = [slack_from_settings(settings, directory=directory)]
    channels = Channels.of(citizen=tuple(citizen), department=tuple(department))
    adapters = list(channels)
    worker: DeliveryWorker | None = None

    def wake() -> None:
        if worker is not None:
            worker.wake()

    relay = Relay(store=store, directory=directory, router=router, on_queued=wake)
    worker = DeliveryWorker(store=store, channels=channels, outcomes=relay)
    app = web.Application()
    for adapter in adapters:
        mount = getattr(adapter, "mount", None)
        if mount is not None:
            mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        for adapter in adapters:
            await adapter.start(relay)
            stack.push_async_callback(adapter.stop)
            if isinstance(adapter, ExclusiveIntake):  # one process here: it holds every intake
                await adapter.start_intake()
        await stack.enter_async_context(worker)
        yield Bridged(relay, worker, url, adapters)
