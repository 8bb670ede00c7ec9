"""Builds the adapters whose settings are present. Each platform is imported only when enabled."""

from __future__ import annotations

from bot.departments import Directory
from bot.ports import Adapter
from bot.storage.store import Store
from config.settings import Settings


def build_adapters(settings: Settings, *, directory: Directory, store: Store) -> list[Adapter]:
    """Every adapter this configuration enables, citizen platforms first."""
    adapters: list[Adapter] = []
    if settings.discord_token is not None:
        from adapters.discord import from_settings as discord_adapter  # noqa: PLC0415  # imported only when enabled

        adapters.append(discord_adapter(settings, directory=directory, store=store))
    if settings.telegram_token is None and settings.slack_bot_token is None:
        return adapters
    return adapters
