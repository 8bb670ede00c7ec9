"""Builds the adapters whose settings are present. Each platform is imported only when enabled."""

from __future__ import annotations

from bot.departments import Directory
from bot.ports import Adapter
from bot.views import ConversationViews
from config.settings import Settings


def build_adapters(settings: Settings, *, directory: Directory, views: ConversationViews) -> list[Adapter]:
    """Every adapter this configuration enables, citizen platforms first."""
    adapters: list[Adapter] = []
    # The web chat and web desk are always on: the bridge is usable in a browser with no platform account.
    from adapters.web import from_settings as web_adapters  # noqa: PLC0415  # imported only where it is wired

    adapters.extend(web_adapters(settings, directory=directory, views=views))
    if settings.telegram_token is not None:
        from adapters.telegram import from_settings as telegram_adapter  # noqa: PLC0415  # imported only when enabled

        adapters.append(telegram_adapter(settings, directory=directory))
    if settings.discord_token is not None:
        from adapters.discord import from_settings as discord_adapter  # noqa: PLC0415  # imported only when enabled

        adapters.append(discord_adapter(settings, directory=directory))
    if settings.slack_bot_token is not None:
        from adapters.slack import from_settings as slack_adapter  # noqa: PLC0415  # imported only when enabled

        adapters.append(slack_adapter(settings, directory=directory))
    return adapters
