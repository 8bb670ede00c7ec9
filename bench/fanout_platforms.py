"""The platforms measurement 8 fans out on: each one's emulator under its limits, its real adapter and its chats.

A ``FanoutPlatform`` is all ``bench.fanout`` needs to know of a platform, so that one
code path drains a broadcast on each. The emulators are subclassed only to tally what
reached them (``Tally``): the broadcast's sends by chat, and when each staff reply arrived.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

from pydantic import SecretStr

from adapters.discord import from_settings as discord_from_settings
from adapters.telegram import from_settings as telegram_from_settings
from bot.departments import Department, Directory
from bot.model import DISCORD, SLACK, TELEGRAM, Address, DepartmentKey, Platform
from bot.ports import CitizenChannel
from config.settings import Settings
from tests.emulators.discord import BOT_TOKEN, DiscordEmulator, SentMessage
from tests.emulators.telegram import TelegramEmulator

DIRECTORY = Directory(
    departments=(Department(DepartmentKey("general"), "General", Address(SLACK, "C0GENERAL")),),
    fallback=DepartmentKey("general"),
)


class Tally:
    """What reached an emulator: the broadcast's sends by chat, and when each staff reply first arrived."""

    def __init__(self, staff: Collection[str]) -> None:
        self._staff = frozenset(staff)
        self.bulk_chats: set[str] = set()
        self.bulk_sends = 0
        self.last_bulk = 0.0
        self.replies: dict[str, float] = {}

    def saw(self, chat: str) -> None:
        """A message was delivered to ``chat`` now."""
        now = time.perf_counter()
        if chat in self._staff:
            self.replies.setdefault(chat, now)
        else:
            self.bulk_sends += 1
            self.bulk_chats.add(chat)
            self.last_bulk = now


class LimitedEmulator(Protocol):
    """A platform emulator enforcing the platform's rate limits and counting the 429s it answered."""

    @property
    def rejected(self) -> int:
        """Requests answered 429."""
        ...

    async def __aenter__(self) -> Self:
        """Start serving on a loopback port."""
        ...

    async def __aexit__(self, *_exc: object) -> None:
        """Stop serving."""
        ...


E = TypeVar("E", bound=LimitedEmulator)


@dataclass(frozen=True, slots=True)
class FanoutPlatform(Generic[E]):
    """How measurement 8 meets one platform.

    ``emulator(tally, overall)``: the platform's emulator (not started) tallying into ``tally``, its
    overall limit ``overall`` a second; ``settings(started, rate, overall)``: what points the real adapter
    at it, with the bulk rate ``rate``; ``adapter``: the real adapter built from those settings. Subscriber
    ``n``'s chat is ``first_chat + n``, staff reply ``n``'s ``staff_chat + n``. ``limits`` describes
    the emulated limits in the row's notes (``{overall}`` is filled in).
    """

    name: str
    platform: Platform
    emulator: Callable[[Tally, float], E]
    settings: Callable[[E, float, float], Settings]
    adapter: Callable[[Settings], CitizenChannel]
    first_chat: int
    staff_chat: int
    limits: str


class TallyingTelegram(TelegramEmulator):
    """The Bot API emulator, tallying the messages it accepted (past its flood limits)."""

    def __init__(self, tally: Tally) -> None:
        super().__init__(record_calls=False)
        self.tally = tally

    async def _m_sendMessage(self, params: dict[str, str], files: object) -> Any:  # noqa: N802, ANN401  # Bot API name; JSON
        self.tally.saw(params.get("chat_id", ""))
        return await super()._m_sendMessage(params, files)


class TallyingDiscord(DiscordEmulator):
    """The Discord emulator, tallying the messages it created instead of keeping them (a broadcast is large)."""

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    def _posted(self, message: SentMessage) -> None:
        self.tally.saw(message.channel_id)


def _telegram(tally: Tally, overall: float) -> TallyingTelegram:
    emulator = TallyingTelegram(tally)
    emulator.limit(per_second=overall, per_chat_interval=1.0)
    return emulator


def _telegram_settings(telegram: TallyingTelegram, rate: float, overall: float) -> Settings:
    return Settings(
        telegram_token=SecretStr(telegram.token),
        telegram_api_url=telegram.api_url,
        bulk_telegram_per_second=rate,
        telegram_sends_per_second=overall,  # the adapter's own pace: Telegram's ~30/s over the default bulk 25/s
    )


def _discord(tally: Tally, overall: float) -> TallyingDiscord:
    emulator = TallyingDiscord(tally)
    emulator.limit(per_second=overall)  # and Discord's own 5 messages per 5 s into one channel
    return emulator


def _discord_settings(discord: TallyingDiscord, rate: float, overall: float) -> Settings:
    return Settings(
        discord_token=SecretStr(BOT_TOKEN),
        discord_api_url=discord.api_url,
        discord_gateway_url=discord.gateway_url,
        bulk_discord_per_second=rate,
        discord_sends_per_second=overall,  # the adapter's own pace, as Discord's 50/s over the default bulk 10/s
    )


TELEGRAM_FANOUT = FanoutPlatform(
    name="Telegram",
    platform=TELEGRAM,
    emulator=_telegram,
    settings=_telegram_settings,
    adapter=lambda settings: telegram_from_settings(settings, directory=DIRECTORY),
    first_chat=10_000_000,
    staff_chat=900_000,
    limits="emulated Telegram {overall:,.0f}/s overall and 1/s per chat (Telegram's ~30/s scaled up)",
)

DISCORD_FANOUT = FanoutPlatform(
    name="Discord",
    platform=DISCORD,
    emulator=_discord,
    settings=_discord_settings,
    adapter=lambda settings: discord_from_settings(settings, directory=DIRECTORY),
    first_chat=6_000_000_000_000_000_000,  # DM channel ids are snowflakes
    staff_chat=7_000_000_000_000_000_000,
    limits="emulated Discord {overall:,.0f}/s global and 5 per 5 s per DM channel (Discord's 50/s scaled up)",
)

#: Every platform measurement 8 runs on, in row order.
PLATFORMS: tuple[FanoutPlatform[Any], ...] = (TELEGRAM_FANOUT, DISCORD_FANOUT)
