"""Citizen texts in the citizen's language: lookup, fallback, plurals, dates and times."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.i18n import LOCALES, CatalogError, Catalogs
from bot.model import CaseStatus


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    """The shipped catalogs, with English as the office language."""
    return Catalogs.load(office_language="en")


def test_spanish_acknowledgement_is_in_spanish(catalogs: Catalogs) -> None:
    """A Spanish-speaking citizen's acknowledgement is the Spanish catalog's, with reference and department."""
    ack = catalogs.for_language("es").gettext(texts.ACK, reference="CB-7K2Q9M", department="Obras")
    assert ack == "Gracias. Su caso CB-7K2Q9M está en manos de Obras. El personal le responderá aquí."


def test_regional_tag_gets_its_language(catalogs: Catalogs) -> None:
    """Telegram's ``pt-br`` and a browser's ``pt_BR`` both get the Portuguese texts."""
    assert {catalogs.for_language("pt-br").language, catalogs.for_language("pt_BR").language} == {"pt"}


def test_unknown_language_gets_the_office_language() -> None:
    """A language without a catalog gets the office language, here German."""
    catalogs = Catalogs.load(office_language="de")
    assert catalogs.for_language("sw").gettext(texts.OTHER) == "Sonstiges"


def test_office_language_without_catalog_falls_back_to_english() -> None:
    """An office language nobody has translated yet still answers, in English (the source)."""
    catalogs = Catalogs.load(office_language="nl")
    assert catalogs.for_language(None).gettext(texts.OTHER) == "Other"


def test_english_is_the_source(catalogs: Catalogs) -> None:
    """English texts are bot/texts.py's own, formatted."""
    assert catalogs.for_language("en").gettext(texts.NEW_CASE, reference="CB-1") == texts.NEW_CASE.format(
        reference="CB-1"
    )


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Masz 1 sprawę:"),
        (3, "Masz 3 sprawy:"),
        (5, "Masz 5 spraw:"),
        (22, "Masz 22 sprawy:"),
        (25, "Masz 25 spraw:"),
    ],  # one row reads best
)
def test_polish_plural_follows_the_number(catalogs: Catalogs, count: int, expected: str) -> None:
    """Polish has three plural forms, and the count picks the right one."""
    assert catalogs.for_language("pl").ngettext(texts.STATUS_HEADER, count, count=count) == expected


def test_arabic_dual_form(catalogs: Catalogs) -> None:
    """Arabic's dual form is used for two."""
    assert catalogs.for_language("ar").ngettext(texts.STATUS_HEADER, 2, count=2) == "لديك 2 قضيتان:"


def test_arabic_texts_are_right_to_left(catalogs: Catalogs) -> None:
    """Arabic texts say they run right to left; Spanish ones left to right."""
    assert (catalogs.for_language("ar").direction, catalogs.for_language("es").direction) == ("rtl", "ltr")


def test_fuzzy_translation_is_not_used(tmp_path: Path) -> None:
    """A translation marked fuzzy (unchecked) is not shown: the citizen gets the English source."""
    source = (LOCALES / "de" / "LC_MESSAGES" / "messages.po").read_text()
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(source.replace('msgid "Other"', '#, fuzzy\nmsgid "Other"'))
    assert Catalogs.load(directory=tmp_path).for_language("de").gettext(texts.OTHER) == "Other"


def test_broken_translation_falls_back_to_english(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A hand-edited translation with a wrong placeholder gives the English text instead of failing."""
    source = (LOCALES / "es" / "LC_MESSAGES" / "messages.po").read_text()
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(source.replace("Su caso {reference} está", "Su caso {referencia} está"))
    with caplog.at_level(logging.WARNING):
        es = Catalogs.load(directory=tmp_path).for_language("es")
        ack = es.gettext(texts.ACK, reference="CB-PRIV01", department="Obras")
    assert ack == "Thank you. Your case CB-PRIV01 is with Obras. Staff will answer here."
    assert ("placeholders" in caplog.text, "CB-PRIV01" in caplog.text) == (True, False)


def test_moment_in_citizen_language_and_office_zone(catalogs: Catalogs) -> None:
    """14:30 UTC reads as 15:30 in Madrid, written the Spanish way."""
    moment = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    shown = catalogs.for_language("es").format_datetime(moment, zone=ZoneInfo("Europe/Madrid"))
    assert shown == "5 mar 2026, 15:30:00"


def test_naive_moment_is_taken_as_utc(catalogs: Catalogs) -> None:
    """A timestamp without a zone (as SQLite returns it) is read as UTC."""
    shown = catalogs.for_language("de").format_datetime(
        datetime(2026, 7, 1, 8, 0),  # noqa: DTZ001  # naive on purpose: what SQLite hands back
        zone=ZoneInfo("Europe/Berlin"),
        width="short",
    )
    assert shown == "01.07.26, 10:00"


def test_duration_in_citizen_language(catalogs: Catalogs) -> None:
    """A duration reads in the citizen's language, with its direction when asked."""
    assert catalogs.for_language("fr").format_timedelta(timedelta(days=3), add_direction=True) == "dans 3 jours"


def test_case_status_reads_in_citizen_language(catalogs: Catalogs) -> None:
    """Every case status has a citizen text, here in Ukrainian."""
    words = {status: catalogs.for_language("uk").gettext(word) for status, word in texts.STATUS_WORDS.items()}
    assert words == {"open": "відкрита", "pending": "очікує, поки ви виберете відділ", "closed": "закрита"}


def test_case_statuses_all_have_words() -> None:
    """Each CaseStatus value has a word for citizens, so a new status cannot go out untranslated."""
    assert set(texts.STATUS_WORDS) == {status.value for status in CaseStatus}


def test_broken_catalog_names_its_file(tmp_path: Path) -> None:
    """A catalog that cannot be parsed stops the start with its path, not a traceback from inside Babel."""
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text("this is not a catalog\n")
    with pytest.raises(CatalogError, match=r"fr/LC_MESSAGES/messages\.po: cannot read the catalog"):
        Catalogs.load(directory=tmp_path)
