"""How the bridge speaks to one citizen: the offered languages, the choice among them, and a ``Voice`` per language.

``Languages`` is built once (``bot.app`` from the routing file) and injected into the relay and the
channels; ``Languages.choose`` applies DESIGN.md's order (``bot.language.choose_language``) to what is
stored about a citizen and their case, and ``Voice`` fills in citizen texts, department names and dates.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Literal

from bot.departments import Department
from bot.i18n import Catalogs, Texts
from bot.language import (
    LanguageChoice,
    LanguageCode,
    choose_language,
    language_list,
    language_name,
    normalize_language,
    parse_accept_language,
    parse_language_argument,
)
from bot.model import Case, Citizen
from bot.texts import Msg, Plural


def spoken_language(citizen: Citizen | None, case: Case | None) -> LanguageCode | None:
    """The citizen's own language, as staff see it on the case: chosen, else identified, else their platform's.

    Unlike ``Languages.choose`` this ignores what the office offers: a Polish citizen answered in English is Polish.
    """
    for value in (citizen.chosen_language if citizen else None, case.language if case else None):
        code = normalize_language(value)
        if code is not None:
            return code
    return normalize_language(citizen.language) if citizen else None


def language_label(code: str | None) -> str:
    """A language as staff read it on a case: ``Spanish (es)``; ``unknown`` when nothing is known."""
    return f"{language_name(code, in_language='en')} ({code})" if code else "unknown"


@dataclass(frozen=True, slots=True)
class Voice:
    """The citizen texts in one language, with department names in it and dates in the office's time zone."""

    texts: Texts
    zone: tzinfo = UTC

    @property
    def language(self) -> LanguageCode:
        """The language this voice speaks."""
        return self.texts.language

    @property
    def direction(self) -> Literal["rtl", "ltr"]:
        """``rtl`` for right-to-left scripts."""
        return self.texts.direction

    def say(self, message: Msg, /, **fields: object) -> str:
        """``message`` in this language with ``fields`` filled in."""
        return self.texts.gettext(message, **fields)

    def template(self, message: Msg) -> str:
        """``message`` in this language with its ``{placeholders}`` left in (for the web chat's script to fill)."""
        return self.texts.translations.gettext(message)

    def count(self, message: Plural, n: int, /, **fields: object) -> str:
        """The form of ``message`` for ``n``; ``{count}`` is ``n`` unless given."""
        return self.texts.ngettext(message, n, **{"count": n, **fields})

    def department(self, department: Department | None) -> str:
        """A department's name in this language (the routing file's ``names``), else its name."""
        return department.name_in(self.language) if department is not None else ""

    def when(self, moment: datetime) -> str:
        """A moment as this language writes it, in the office's time zone."""
        return self.texts.format_datetime(moment, zone=self.zone, width="short")

    def when_in_words(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """A moment spelled out (weekday, date, time, the zone's name) in ``zone``, else the office's."""
        return self.texts.format_moment_in_words(moment, zone=zone or self.zone)

    def weekday_time(self, moment: datetime, zone: tzinfo | None = None) -> str:
        """A moment in the coming week as weekday and time (``Monday 9:00``), in ``zone``, else the office's."""
        return self.texts.format_weekday_time(moment, zone=zone or self.zone)

    def language_name(self, code: str) -> str:
        """A language's name in this language (``alemán`` for ``de`` in Spanish)."""
        return language_name(code, in_language=self.language)


@dataclass(frozen=True, slots=True)
class Languages:
    """What the office offers citizens: its language, the languages the bot speaks, and its time zone."""

    catalogs: Catalogs
    offered: tuple[LanguageCode, ...]
    zone: tzinfo = UTC
    _voices: Mapping[LanguageCode, Voice] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        catalogs: Catalogs,
        *,
        offered: Collection[str] | None = None,
        timezone: str = "UTC",
    ) -> Languages:
        """The offer of ``catalogs`` (every shipped language unless ``offered`` narrows it) in ``timezone``."""
        wanted = catalogs.shipped if offered is None else offered
        codes = [code for code in map(normalize_language, wanted) if code is not None and code in catalogs.shipped]
        office = catalogs.office_language
        ordered = tuple(dict.fromkeys([office, *sorted(codes, key=lambda code: (code != office, code))]))
        zone = zoneinfo.ZoneInfo(timezone)
        voices = {code: Voice(texts, zone) for code, texts in catalogs.by_language.items()}
        return cls(catalogs=catalogs, offered=ordered, zone=zone, _voices=voices)

    @classmethod
    def english(cls) -> Languages:
        """Every shipped catalog, English office, UTC: what tests and tools get unless they say otherwise."""
        return cls.of(Catalogs.load())

    @property
    def office_language(self) -> LanguageCode:
        """The office language: spoken when nothing else is known or the citizen's is not offered."""
        return self.catalogs.office_language

    def voice(self, language: str | None) -> Voice:
        """The voice for ``language``; the office language's when it has no catalog."""
        texts = self.catalogs.for_language(language)
        return self._voices.get(texts.language) or Voice(texts, self.zone)

    def choose(self, citizen: Citizen | None, case: Case | None, *, locale: str | None = None) -> LanguageChoice:
        """The language for this citizen: their choice, their case's identified language, the locale, the office's.

        ``locale`` is the platform's locale as the current event gives it; the citizen's stored one otherwise.
        """
        return self.choose_from(
            explicit=citizen.chosen_language if citizen else None,
            identified=case.language if case else None,
            locale=locale or (citizen.language if citizen else None),
        )

    def choose_from(self, *, explicit: str | None, identified: str | None, locale: str | None) -> LanguageChoice:
        """``choose`` from the three facts themselves (the web chat reads them without a ``Citizen``)."""
        return choose_language(
            explicit=explicit,
            identified=identified,
            platform_locale=locale,
            office_language=self.office_language,
            offered=self.offered,
            shipped=self.catalogs.shipped,
        )

    def best_locale(self, header: str | None) -> LanguageCode | None:
        """The language an ``Accept-Language`` header asks for: the first the office offers, else the first listed."""
        listed = parse_accept_language(header)
        return next((code for code in listed if code in self.offered), listed[0] if listed else None)

    def parse(self, argument: str) -> LanguageCode | None:
        """The offered language a ``language`` command names, if any."""
        return parse_language_argument(argument, offered=self.offered)

    def listed(self) -> str:
        """The offered languages, each in itself, for ``{languages}``."""
        return language_list(self.offered)
