"""Which language the bot writes to a citizen in: the choice order, locale parsing, the ``language`` command.

Everything here is pure: the relay passes what it knows about the citizen and the office and gets a
``LanguageChoice`` back. Language names come from Babel's CLDR data, so nothing is typed in twice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NewType

from babel import Locale, UnknownLocaleError

#: A primary language subtag, lower case: ``en``, ``pt``, ``ar``.
LanguageCode = NewType("LanguageCode", str)

#: The language of the source texts (``bot/texts.py``) and the fallback of every other.
SOURCE_LANGUAGE = LanguageCode("en")

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_Q = re.compile(r"^[qQ]\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
#: Accept-Language headers are short; a hostile one is cut here rather than parsed at length.
_MAX_RANGES = 32
#: Names citizens write that CLDR does not list as the language's name in any shipped language.
_ALIASES: Mapping[str, str] = {
    "castellano": "es",
    "عربي": "ar",
    "عربى": "ar",
    "farsi": "fa",
    "brasileiro": "pt",
    "ukrainska": "uk",
    "ukrainisch": "uk",
}
#: Scripts written right to left, for when CLDR does not know a locale (its own data decides first).
_RTL = frozenset({"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})


class LanguageSource(StrEnum):
    """What decided a citizen's language."""

    EXPLICIT = "explicit"  # the citizen's ``language`` command or the web chat's selector
    IDENTIFIED = "identified"  # identified in the citizen's own text
    PLATFORM = "platform"  # Telegram ``language_code``, Discord locale, the browser's Accept-Language
    OFFICE = "office"  # nothing known: the office language


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """The language to write to a citizen in, and why.

    ``wanted`` is the citizen's own language as the deciding source gave it; when the office does not
    offer it, ``language`` is the office language and ``notice_in`` names the (shipped) language to tell
    the citizen so in, once (``texts.LANGUAGE_NOT_OFFERED``); ``None`` means there is nothing to tell.
    """

    language: LanguageCode
    source: LanguageSource
    wanted: LanguageCode
    notice_in: LanguageCode | None = None

    @property
    def offered(self) -> bool:
        """Whether the citizen is served in their own language."""
        return self.language == self.wanted


def normalize_language(tag: str | None) -> LanguageCode | None:
    """The primary language of a BCP 47 / POSIX tag: ``"pt-br"``, ``"es_ES"``, ``"EN"`` → ``pt``, ``es``, ``en``.

    ``None`` for anything that is not a language tag (empty, ``*``, ``und``, garbage).
    """
    if tag is None:
        return None
    match = _TAG.match(tag.strip())
    if match is None:
        return None
    primary = match.group(1).lower()
    return None if primary in {"und", "mul", "zxx"} else LanguageCode(primary)


def parse_accept_language(header: str | None) -> tuple[LanguageCode, ...]:
    """The languages of an ``Accept-Language`` header (or one bare tag), most wanted first.

    Ranges are ordered by their ``q`` value, keeping the header's order among equals; ``q=0`` and ``*``
    are dropped, as are malformed ranges, and each language appears once (``en-GB, en-US`` → ``en``).
    Telegram's ``language_code`` (``"pt-br"``) and Discord's locale (``"es-ES"``) parse as one range.
    """
    if not header:
        return ()
    weighted: list[tuple[float, int, LanguageCode]] = []
    for position, part in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        language = normalize_language(tag)
        quality: float | None = 1.0
        for parameter in parameters:
            found = _Q.match(parameter)
            quality = float(found.group(1)) if found else None
        if language is None or quality is None or quality <= 0:
            continue
        weighted.append((-quality, position, language))
    ordered: list[LanguageCode] = []
    for _quality, _position, language in sorted(weighted):
        if language not in ordered:
            ordered.append(language)
    return tuple(ordered)


def choose_language(
    *,
    explicit: str | None,
    identified: str | None,
    platform_locale: str | None,
    office_language: str,
    offered: Collection[str],
    shipped: Collection[str],
) -> LanguageChoice:
    """The citizen's language, in DESIGN.md's order: explicit, identified, platform locale, office language.

    The first source that names a language decides. A platform locale may list several (Accept-Language):
    the first the office offers wins, else the first listed. A language the office does not offer gives
    the office language, with ``notice_in`` set when the citizen's language is shipped (``shipped``: the
    languages with catalogs), so the relay can tell them once, in their language, why.
    Pass ``identified`` only when the identification is confident: a two-word message proves little.
    """
    office = normalize_language(office_language) or SOURCE_LANGUAGE
    offer = {code for code in map(normalize_language, offered) if code is not None} | {office}
    ships = {code for code in map(normalize_language, shipped) if code is not None}
    decided: tuple[LanguageCode, LanguageSource] | None = None
    for value, source in ((explicit, LanguageSource.EXPLICIT), (identified, LanguageSource.IDENTIFIED)):
        language = normalize_language(value)
        if language is not None:
            decided = (language, source)
            break
    if decided is None:
        candidates = parse_accept_language(platform_locale)
        if candidates:
            best = next((code for code in candidates if code in offer), candidates[0])
            decided = (best, LanguageSource.PLATFORM)
    if decided is None:
        return LanguageChoice(language=office, source=LanguageSource.OFFICE, wanted=office)
    wanted, source = decided
    if wanted in offer:
        return LanguageChoice(language=wanted, source=source, wanted=wanted)
    return LanguageChoice(language=office, source=source, wanted=wanted, notice_in=wanted if wanted in ships else None)


def _folded(name: str) -> str:
    """A name as citizens may type it: case, accents, spaces and punctuation do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))


def _names(code: str, languages: Iterable[str]) -> set[str]:
    """Every name of language ``code`` in ``languages`` (its own included), folded."""
    names = {_folded(code)}
    try:
        locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return names
    for language in {code, "en", *languages}:
        try:
            name = locale.get_display_name(Locale.parse(language))
        except (UnknownLocaleError, ValueError):
            continue
        if name:
            names.add(_folded(name))
    return names


def parse_language_argument(argument: str, *, offered: Collection[str]) -> LanguageCode | None:
    """The offered language a ``language`` command names, or ``None`` (empty, unknown or not offered).

    Accepts codes and tags (``es``, ``pt-BR``), and names in the language itself, in English or in any
    offered language, regardless of case and accents: ``español``, ``espanol``, ``Deutsch``, ``German``,
    ``العربية``, ``allemand``.
    """
    wanted = argument.strip()
    if not wanted:
        return None
    codes = [code for code in map(normalize_language, offered) if code is not None]
    by_tag = normalize_language(wanted)
    if by_tag is not None and by_tag in codes:
        return by_tag
    folded = _folded(wanted)
    alias = _ALIASES.get(folded) or _ALIASES.get(wanted.casefold())
    if alias in codes:
        return LanguageCode(alias)
    for code in codes:
        if folded in _names(code, codes):
            return code
    return None


def language_name(code: str, *, in_language: str | None = None) -> str:
    """A language's name as CLDR spells it in ``in_language`` (default: in itself); the code if unknown."""
    try:
        locale = Locale.parse(code)
        name = locale.get_display_name(Locale.parse(in_language) if in_language else locale)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


def language_list(offered: Iterable[str]) -> str:
    """The offered languages, each named in itself (``English, español, العربية``), for ``{languages}``."""
    return ", ".join(language_name(code) for code in offered)


def text_direction(language: str | None) -> Literal["rtl", "ltr"]:
    """Whether a language is written right to left (``ar``, ``he``, ``fa``, ``ur``…): for ``dir`` attributes."""
    code = normalize_language(language)
    if code is None:
        return "ltr"
    try:
        order = Locale.parse(code).character_order
    except (UnknownLocaleError, ValueError):
        return "rtl" if code in _RTL else "ltr"
    return "rtl" if order == "right-to-left" else "ltr"
