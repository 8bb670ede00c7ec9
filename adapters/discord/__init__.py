"""Discord: citizens write to the bot by direct message (discord.py 2)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # discord.py imports audioop for voice (deprecated since Python 3.11); we use no voice, and tests
    # turn warnings into errors, so the library is imported here, once, with that one warning silenced.
    warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
    import discord  # noqa: F401  # imported for the side effect described above

from adapters.discord.adapter import DiscordAdapter, intents  # after the guarded import
from adapters.pacing import SendPace  # as above
from bot.departments import Directory  # as above
from bot.speech import Languages  # as above
from config.settings import Settings  # as above


def from_settings(settings: Settings, *, directory: Directory, languages: Languages | None = None) -> DiscordAdapter:
    """The Discord adapter for these settings (``BRIDGE_DISCORD_TOKEN`` must be set)."""
    del directory  # the relay does the routing; Discord needs none here
    if settings.discord_token is None:
        raise ValueError("BRIDGE_DISCORD_TOKEN is not set: set it to the bot token to enable Discord")
    return DiscordAdapter(
        token=settings.discord_token.get_secret_value(),
        api_url=settings.discord_api_url,
        gateway_url=settings.discord_gateway_url,
        max_file_bytes=settings.max_file_bytes,
        helpdesk_channel=settings.discord_helpdesk_channel,
        languages=languages,
        pace=SendPace(per_chat_interval=0.0, overall_rate=settings.discord_sends_per_second),
    )


__all__ = ["DiscordAdapter", "from_settings", "intents"]
