"""Which language a citizen gets: the order of sources, locale parsing, the language command, direction."""

from __future__ import annotations

import pytest

from bot.language import (
    LanguageChoice,
    LanguageCode,
    LanguageSource,
    choose_language,
    language_list,
    language_name,
    parse_accept_language,
    parse_language_argument,
    text_direction,
)

SHIPPED = ("en", "es", "fr", "de", "pl", "ar", "uk", "pt", "it", "tr")


def choose(
    *,
    explicit: str | None = None,
    identified: str | None = None,
    platform: str | None = None,
    office: str = "en",
    offered: tuple[str, ...] = SHIPPED,
) -> LanguageChoice:
    """The choice for these hints, with every shipped language offered unless told otherwise."""
    return choose_language(
        explicit=explicit,
        identified=identified,
        platform_locale=platform,
        office_language=office,
        offered=offered,
        shipped=SHIPPED,
    )


def test_explicit_choice_wins_over_everything() -> None:
    """The citizen's own ``language`` choice beats the identified language and the platform locale."""
    choice = choose(explicit="de", identified="es", platform="fr-FR")
    assert (choice.language, choice.source) == ("de", LanguageSource.EXPLICIT)


def test_identified_language_wins_over_platform_locale() -> None:
    """A citizen writing Spanish on an English phone is answered in Spanish."""
    choice = choose(identified="es", platform="en-US")
    assert (choice.language, choice.source) == ("es", LanguageSource.IDENTIFIED)


def test_telegram_language_code_is_used_when_nothing_else_is_known() -> None:
    """Telegram's ``pt-br`` gives Portuguese when the citizen has not chosen and nothing was identified."""
    choice = choose(platform="pt-br")
    assert (choice.language, choice.source) == ("pt", LanguageSource.PLATFORM)


def test_discord_locale_is_used() -> None:
    """Discord's ``es-ES`` gives Spanish."""
    assert choose(platform="es-ES").language == "es"


def test_office_language_when_nothing_is_known() -> None:
    """Without any hint the citizen gets the office language, with nothing to tell them."""
    expected = LanguageChoice(language=LanguageCode("pl"), source=LanguageSource.OFFICE, wanted=LanguageCode("pl"))
    assert choose(office="pl") == expected


def test_browser_first_offered_language_wins() -> None:
    """From ``Accept-Language: sw, fr;q=0.8`` an office that does not offer Swahili picks French."""
    assert choose(platform="sw, fr;q=0.8, en;q=0.5").language == "fr"


def test_language_not_offered_gets_office_language_and_a_notice_in_theirs() -> None:
    """A Turkish citizen of an office offering only English and German gets English, told so in Turkish."""
    choice = choose(identified="tr", office="en", offered=("en", "de"))
    assert (choice.language, choice.wanted, choice.notice_in, choice.offered) == ("en", "tr", "tr", False)


def test_language_not_shipped_gets_office_language_without_notice() -> None:
    """A Swahili speaker gets the office language; there is no Swahili text to tell them why."""
    choice = choose(identified="sw", office="de")
    assert (choice.language, choice.notice_in) == ("de", None)


def test_office_language_is_always_offered() -> None:
    """The office language counts as offered even when the list forgets it."""
    assert choose(platform="de-AT", office="de", offered=("fr",)).notice_in is None


def test_accept_language_is_ordered_by_quality() -> None:
    """Ranges are ordered by q, header order among equals, duplicates and ``*`` dropped."""
    header = "de;q=0.7, fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5, en-GB;q=0.6"
    assert parse_accept_language(header) == ("fr", "en", "de")


def test_accept_language_drops_refused_and_malformed_ranges() -> None:
    """``q=0`` means "not this one"; a range with a broken q is ignored, not trusted."""
    assert parse_accept_language("es;q=0, it;q=abc, pl;q=0.5, 12345, ") == ("pl",)


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("es", "es"),
        ("pt-BR", "pt"),
        ("español", "es"),
        ("ESPANOL", "es"),
        ("Deutsch", "de"),
        ("German", "de"),
        ("allemand", "de"),
        ("العربية", "ar"),
        ("українська", "uk"),
        ("Türkçe", "tr"),
        ("polski", "pl"),
    ],
)
def test_language_command_understands_codes_and_names(argument: str, expected: str) -> None:
    """``language`` takes a code or the language's name in itself, English or another offered language."""
    assert parse_language_argument(argument, offered=SHIPPED) == expected


@pytest.mark.parametrize("argument", ["", "  ", "klingon", "Swahili", "sw"])
def test_language_command_rejects_what_is_not_offered(argument: str) -> None:
    """An empty, unknown or not offered language gives no choice (the bot lists what it offers)."""
    assert parse_language_argument(argument, offered=SHIPPED) is None


def test_language_command_rejects_a_shipped_language_the_office_does_not_offer() -> None:
    """An office offering English and Spanish does not switch a citizen to French."""
    assert parse_language_argument("français", offered=("en", "es")) is None


def test_language_names_come_in_the_asked_language() -> None:
    """Names are CLDR's: a language in itself by default, or in the citizen's language."""
    assert (language_name("es"), language_name("ar", in_language="fr")) == ("español", "arabe")


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("he", "rtl"), ("fa-IR", "rtl"), ("ur", "rtl")])
def test_right_to_left_languages(language: str, direction: str) -> None:
    """Arabic, Hebrew, Persian and Urdu are written right to left."""
    assert text_direction(language) == direction


@pytest.mark.parametrize("language", ["en", "uk", "tr", None, "not a tag"])
def test_other_languages_are_left_to_right(language: str | None) -> None:
    """Everything else, and anything unknown, is left to right."""
    assert text_direction(language) == "ltr"


def test_language_list_names_each_language_in_itself() -> None:
    """The list a citizen chooses from names every language so its speakers recognise it."""
    assert language_list(["en", "es", "ar"]) == "English, español, العربية"
