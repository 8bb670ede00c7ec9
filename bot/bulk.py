"""Bulk sending limits: how fast broadcasts to subscribers may go out on each platform, shared by every process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

from bot.model import DISCORD, TELEGRAM, WEB
from config.settings import Settings


@dataclass(frozen=True, slots=True)
class BulkLimit:
    """One platform's pace for bulk sends.

    ``per_second``: bulk sends a second over every process (None: no limit);
    ``chat_interval``: seconds between two bulk sends to one chat (0: none).
    """

    per_second: float | None = None
    chat_interval: float = 0.0


@dataclass(frozen=True, slots=True)
class BulkLimits:
    """Every platform's bulk pace, and how far ahead a worker reserves its sends.

    ``look_ahead``: a claim takes the sends whose turn comes within this many seconds, and the
    worker sends each at its turn; ``batch``: at most this many bulk rows per claim and per platform
    in flight in one process; ``concurrency``: bulk sends under way at once per platform, fewer than
    the adapter's connections, so a staff reply never queues behind a broadcast in the HTTP client.
    """

    platforms: Mapping[str, BulkLimit] = field(default_factory=dict)
    look_ahead: float = 1.0
    batch: int = 1000
    concurrency: int = 4

    def limit(self, platform: str) -> BulkLimit:
        """The platform's pace (no limit when none is configured)."""
        return self.platforms.get(platform, BulkLimit())

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """``BRIDGE_BULK_*``: Telegram and Discord paced overall and per chat; the web chat without a limit."""

        def rate(value: float) -> float | None:
            return value if value > 0 else None

        interval = settings.bulk_chat_interval_seconds
        return cls(
            platforms={
                TELEGRAM: BulkLimit(rate(settings.bulk_telegram_per_second), interval),
                DISCORD: BulkLimit(rate(settings.bulk_discord_per_second), interval),
                WEB: BulkLimit(rate(settings.bulk_web_per_second), 0.0),
            }
        )
