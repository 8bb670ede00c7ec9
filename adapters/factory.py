"""Builds the adapters whose settings are present. Each platform is imported only when enabled."""

from __future__ import annotations

from bot.departments import Directory
from bot.ports import Adapter
from bot.storage.store import Store
from config.settings import Settings


def build_adapters(settings: Settings, *, directory: Directory, store: Store) -> list[Adapter]:
    """Every adapter this configuration enables, citizen platforms first."""
    del directory, store  # used by the platform branches below as they are added
    adapters: list[Adapter] = []
    if settings.telegram_token is None and settings.slack_bot_token is None:
        return adapters
    return adapters
