"""The privacy notice citizens read follows the settings in force, in their language."""

from __future__ import annotations

from bot.events import CitizenCommandKind
from bot.i18n import Catalogs
from bot.privacy_notice import PrivacyNotice
from tests.bridge import Bridge

CATALOGS = Catalogs.load()


def test_notice_names_the_configured_retention_period() -> None:
    """The notice says after how many days data is deleted, as the routing file sets it."""
    assert "90 days after a case closes" in PrivacyNotice(retention_days=90, catalogs=CATALOGS).text("en")


def test_notice_without_translation_says_text_stays_on_the_office_servers() -> None:
    """With no translation server configured, the notice says messages stay on the office's servers."""
    notice = PrivacyNotice(translation=False, catalogs=CATALOGS).text("en")
    assert "stay on the office's own servers" in notice
    assert "translation service" not in notice


def test_notice_with_translation_says_text_goes_to_the_translation_service() -> None:
    """With a translation server configured, the notice says message text is sent to it."""
    notice = PrivacyNotice(translation=True, catalogs=CATALOGS).text("en")
    assert "translation service" in notice
    assert "stay on the office's own servers" not in notice


def test_notice_is_in_the_citizens_language() -> None:
    """A Spanish-speaking citizen reads the notice in Spanish, with the configured period."""
    notice = PrivacyNotice(retention_days=365, catalogs=CATALOGS).text("es")
    assert notice.startswith("Privacidad:")
    assert "365 días" in notice


async def test_start_command_shows_the_notice_built_from_settings(bridge: Bridge) -> None:
    """``/start`` answers with the greeting and the notice as the running settings make it."""
    await bridge.telegram.command(user=111, command=CitizenCommandKind.START)
    await bridge.settle()
    [reply] = bridge.telegram.texts(111)
    assert "730 days after a case closes" in reply
