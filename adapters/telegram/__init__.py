"""Telegram: citizens write to the bot in a private chat (python-telegram-bot 22)."""

from __future__ import annotations

import re

from adapters.pacing import SendPace
from adapters.telegram.adapter import TelegramAdapter
from bot.departments import Directory
from bot.speech import Languages
from config.settings import Settings, SettingsError

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def from_settings(settings: Settings, *, directory: Directory, languages: Languages | None = None) -> TelegramAdapter:
    """The adapter ``BRIDGE_TELEGRAM_*`` describe; raises ``SettingsError`` naming what to fix."""
    del directory  # Telegram needs no routing: it stays in the relay
    if settings.telegram_token is None:
        raise SettingsError("BRIDGE_TELEGRAM_TOKEN: not set; put the token BotFather gave you there")
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
    if settings.telegram_webhook_url:
        if not secret:
            raise SettingsError(
                "BRIDGE_TELEGRAM_WEBHOOK_SECRET: required when BRIDGE_TELEGRAM_WEBHOOK_URL is set; "
                "set it to a random string of letters, digits, _ and - (up to 256)"
            )
        if not _SECRET.fullmatch(secret):
            raise SettingsError(
                "BRIDGE_TELEGRAM_WEBHOOK_SECRET: Telegram accepts only letters, digits, _ and - (1 to 256 of them)"
            )
    return TelegramAdapter(
        token=settings.telegram_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url or None,
        webhook_secret=secret,
        max_file_bytes=settings.max_file_bytes,
        languages=languages,
        flood=SendPace(overall_rate=settings.telegram_sends_per_second),
    )


__all__ = ["TelegramAdapter", "from_settings"]
