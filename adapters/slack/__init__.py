"""Slack, the department side: one thread per case in each department's channel (slack-bolt + slack-sdk)."""

from __future__ import annotations

import logging

from adapters.slack.adapter import SlackAdapter
from bot.consultations.publishing import StaffConsultations
from bot.departments import Directory
from bot.model import SLACK
from config.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def from_settings(
    settings: Settings, *, directory: Directory, consultations: StaffConsultations | None = None
) -> SlackAdapter:
    """The Slack adapter for these settings; needs a bot token and a signing secret or an app token."""
    if settings.slack_bot_token is None:
        raise SettingsError("BRIDGE_SLACK_BOT_TOKEN is not set: set it to the app's xoxb- bot token")
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise SettingsError(
            "Slack needs a way to receive events: set BRIDGE_SLACK_SIGNING_SECRET (Events API at POST /slack/events) "
            "or BRIDGE_SLACK_APP_TOKEN (an xapp- token, Socket Mode)"
        )
    if not any(d.home.platform == SLACK for d in directory.departments):
        log.warning("Slack is enabled but no department of the routing file has a slack_channel")
    return SlackAdapter(
        bot_token=settings.slack_bot_token,
        directory=directory,
        api_url=settings.slack_api_url,
        signing_secret=settings.slack_signing_secret,
        app_token=settings.slack_app_token,
        max_file_bytes=settings.max_file_bytes,
        consultations=consultations,
    )


__all__ = ["SlackAdapter", "from_settings"]
