"""The privacy notice citizens read, built from the settings actually in force, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import texts
from bot.i18n import Catalogs


@dataclass(frozen=True, slots=True)
class PrivacyNotice:
    """What the notice promises follows from ``retention_days`` and whether a translation server is set."""

    retention_days: int = 730
    translation: bool = False
    catalogs: Catalogs = field(default_factory=Catalogs.load)

    def text(self, language: str | None = None) -> str:
        """The notice in ``language`` (the office language when unknown)."""
        words = self.catalogs.for_language(language)
        where = texts.PRIVACY_TRANSLATED if self.translation else texts.PRIVACY_LOCAL
        return " ".join(
            [
                words.ngettext(texts.PRIVACY, self.retention_days, count=self.retention_days),
                words.gettext(where),
                words.gettext(texts.PRIVACY_RIGHTS),
            ]
        )
