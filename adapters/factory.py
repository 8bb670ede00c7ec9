"""Builds the channels whose settings are present. Each platform is imported only when enabled."""

from __future__ import annotations

from collections.abc import Callable

from bot.consultations.publishing import StaffConsultations
from bot.departments import Directory
from bot.live import LiveEvents
from bot.ports import Channels, CitizenChannel, DepartmentChannel
from bot.privacy import AuditRecorder
from bot.reports.model import ReportsReader
from bot.saved_answers import AnswerBook
from bot.sessions import WebSessions
from bot.speech import Languages
from bot.views import ConversationViews
from config.settings import Settings


def build_adapters(
    settings: Settings,
    *,
    directory: Directory,
    views: ConversationViews,
    sessions: WebSessions,
    live: LiveEvents,
    languages: Languages | None = None,
    consultations: StaffConsultations | None = None,
    notice: Callable[[str | None], str] | None = None,
    audit: AuditRecorder | None = None,
    answers: AnswerBook | None = None,
    reports: ReportsReader | None = None,
) -> Channels:
    """Every channel this configuration enables, by side.

    Citizen channels speak ``languages``; the web ones share sessions and live events across processes.
    """
    languages = languages or Languages.english()
    # The web chat and web desk are always on: the bridge is usable in a browser with no platform account.
    from adapters.web import from_settings as web_channels  # noqa: PLC0415  # imported only where it is wired

    chat, desk = web_channels(
        settings,
        directory=directory,
        views=views,
        sessions=sessions,
        live=live,
        languages=languages,
        consultations=consultations,
        notice=notice,
        audit=audit,
        answers=answers,
        reports=reports,
    )
    citizen: list[CitizenChannel] = [chat]
    department: list[DepartmentChannel] = [desk]
    if settings.telegram_token is not None:
        from adapters.telegram import from_settings as telegram_adapter  # noqa: PLC0415  # imported only when enabled

        citizen.append(telegram_adapter(settings, directory=directory, languages=languages))
    if settings.discord_token is not None:
        from adapters.discord import from_settings as discord_adapter  # noqa: PLC0415  # imported only when enabled

        citizen.append(discord_adapter(settings, directory=directory, languages=languages))
    if settings.slack_bot_token is not None:
        from adapters.slack import from_settings as slack_adapter  # noqa: PLC0415  # imported only when enabled

        department.append(slack_adapter(settings, directory=directory, consultations=consultations))
    return Channels.of(citizen=tuple(citizen), department=tuple(department))
