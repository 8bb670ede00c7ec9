"""Citizen texts in the citizen's language: the gettext catalogs of ``bot/locales``, loaded once.

The ``.po`` files are the only form the catalogs take: ``Catalogs.load`` compiles them in memory
(Babel's ``read_po``/``write_mo``, a few milliseconds for all of them), so an edited ``.po`` takes effect
on the next start, nothing binary is committed and a fresh ``pip install`` needs no build step.
Usage, once wired: ``texts_es = catalogs.for_language("es")`` then
``texts_es.gettext(texts.ACK, reference=ref, department=name)``.
"""

from __future__ import annotations

import gettext
import io
import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta, get_timezone_name
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

from bot.language import SOURCE_LANGUAGE, LanguageCode, normalize_language, text_direction
from bot.texts import Plural

log = logging.getLogger(__name__)

#: Where the shipped catalogs live: ``<lang>/LC_MESSAGES/messages.po`` and the template ``messages.pot``.
LOCALES = Path(__file__).parent / "locales"
DOMAIN = "messages"

Width = Literal["short", "medium", "long", "full"]


class CatalogError(Exception):
    """A catalog file cannot be read; the message names the file."""


def placeholders(text: str) -> frozenset[str]:
    """The ``{fields}`` of a format string, with their conversion and format spec (``{name!r}``)."""
    found = set()
    for _literal, field, spec, conversion in string.Formatter().parse(text):
        if field is not None:
            found.add(field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Texts:
    """The citizen texts in one language: look up a msgid from ``bot.texts`` and fill its placeholders.

    A translation that cannot be formatted (a catalog edited by hand with a wrong placeholder) falls
    back to the English source, so a citizen never goes without an answer because of a typo.
    """

    language: LanguageCode
    translations: gettext.NullTranslations

    @property
    def direction(self) -> Literal["rtl", "ltr"]:
        """``rtl`` for Arabic and other right-to-left scripts, for ``dir`` attributes."""
        return text_direction(self.language)

    def gettext(self, message: str, /, **fields: object) -> str:
        """``message`` (a ``texts.Msg``) in this language, with ``fields`` filled in."""
        translated = self.translations.gettext(message)
        return self._format(translated, message, fields)

    def ngettext(self, message: Plural, n: int, /, **fields: object) -> str:
        """The form of ``message`` for the number ``n``, with ``fields`` (usually ``count=n``) filled in."""
        translated = self.translations.ngettext(message.singular, message.plural, n)
        return self._format(translated, message.singular if n == 1 else message.plural, fields)

    def format_datetime(self, moment: datetime, *, zone: tzinfo, width: Width = "medium") -> str:
        """A moment as citizens read it: in this language's conventions and the office's time zone.

        A naive ``moment`` is taken as UTC (SQLite hands timestamps back without a zone).
        """
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return format_datetime(aware, format=width, tzinfo=zone, locale=Locale.parse(self.language))

    def format_moment_in_words(self, moment: datetime, *, zone: tzinfo) -> str:
        """A moment spelled out with the weekday and the zone's name: ``lunes, 12 de enero de 2026, 9:00 (hora …)``."""
        locale = Locale.parse(self.language)
        local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(zone)
        day = format_date(local, format="full", locale=locale)
        clock = format_time(local, format="short", tzinfo=zone, locale=locale)
        both = str(locale.datetime_formats["long"]).format(clock, day)
        return f"{both} ({get_timezone_name(local, locale=locale)})"

    def format_weekday_time(self, moment: datetime, *, zone: tzinfo) -> str:
        """A moment within the coming week as its weekday and time: ``Monday 9:00 AM``."""
        locale = Locale.parse(self.language)
        local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(zone)
        day = format_date(local, format="EEEE", locale=locale)
        return f"{day} {format_time(local, format='short', tzinfo=zone, locale=locale)}"

    def format_timedelta(self, delta: timedelta, *, add_direction: bool = False) -> str:
        """A duration in words (``3 días``; with ``add_direction``: ``dentro de 3 días``)."""
        return format_timedelta(delta, add_direction=add_direction, locale=Locale.parse(self.language))

    def _format(self, translated: str, source: str, fields: Mapping[str, object]) -> str:
        try:
            return translated.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError):
            if translated == source:
                raise
            log.warning("catalog %s: a translation has placeholders its source lacks; using English", self.language)
            return source.format(**fields)


@dataclass(frozen=True, slots=True)
class Catalogs:
    """Every shipped catalog, loaded once at start and injected where citizen texts are sent."""

    office_language: LanguageCode
    by_language: Mapping[LanguageCode, Texts]

    @classmethod
    def load(cls, *, office_language: str = SOURCE_LANGUAGE, directory: Path = LOCALES) -> Catalogs:
        """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``directory``; English is the source."""
        loaded: dict[LanguageCode, Texts] = {SOURCE_LANGUAGE: Texts(SOURCE_LANGUAGE, gettext.NullTranslations())}
        for path in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = normalize_language(path.parent.parent.name)
            if language is None:
                raise CatalogError(f"{path}: the folder name is not a language code (e.g. bot/locales/es)")
            loaded[language] = Texts(language, compile_po(path))
        office = normalize_language(office_language) or SOURCE_LANGUAGE
        return cls(office_language=office, by_language=loaded)

    @property
    def shipped(self) -> frozenset[LanguageCode]:
        """The languages the bot can write in (English included)."""
        return frozenset(self.by_language)

    def for_language(self, language: str | None) -> Texts:
        """The texts in ``language`` (any tag: ``pt-BR`` → ``pt``); unknown or ``None`` → the office language.

        An office language without a catalog falls back to English, the source.
        """
        code = normalize_language(language)
        if code is not None and code in self.by_language:
            return self.by_language[code]
        return self.by_language.get(self.office_language, self.by_language[SOURCE_LANGUAGE])


def compile_po(path: Path) -> gettext.GNUTranslations:
    """A ``.po`` file compiled in memory; fuzzy entries are left out, as ``msgfmt`` does."""
    try:
        with path.open("rb") as source:
            catalog = read_po(source, abort_invalid=True)
    except (OSError, ValueError, PoFileError) as error:
        raise CatalogError(f"{path}: cannot read the catalog ({error}); fix it or run scripts/catalogs") from None
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
