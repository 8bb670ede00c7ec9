"""Language identification restricted to the languages the office expects."""

from __future__ import annotations

import csv
from pathlib import Path

from config.routing_file import load_routing_text
from routing.language import LanguageIdentifier
from routing.router import identifiable_languages

OFFICE_EN_ES = (
    "fallback: general\nlanguages: [en, es]\ndepartments:\n  - key: general\n    name: General\n    desk: web\n"
)


def test_a_sentence_is_identified_among_the_expected_languages() -> None:
    """A French sentence is identified as French."""
    identifier = LanguageIdentifier(["en", "fr", "de"])
    assert identifier.identify("Le camion poubelle n'est pas passé cette semaine").language == "fr"


def test_only_expected_languages_are_ever_answered() -> None:
    """A Spanish sentence in an office expecting English and German is never called Spanish."""
    identifier = LanguageIdentifier(["en", "de"])
    assert identifier.identify("Todos los días hay coches aparcados encima de la acera").language in {"en", "de", None}


def test_a_short_text_is_too_short_to_tell() -> None:
    """One or two words are left undecided: the platform's locale will be used."""
    assert LanguageIdentifier(["en", "fr"]).identify("Merci").language is None


def test_an_office_with_one_language_always_answers_it() -> None:
    """With a single expected language there is nothing to identify."""
    assert LanguageIdentifier(["pl"]).identify("ok").language == "pl"


def test_every_english_development_case_is_identified_as_english() -> None:
    """Our 90 English development messages are all identified as English among the shipped languages."""
    identifier = LanguageIdentifier(["en", "es", "fr", "de", "pl", "ar", "uk", "pt", "it", "tr"])
    with (Path(__file__).with_name("dev_cases_en.csv")).open(encoding="utf-8", newline="") as file:
        found = {identifier.identify(row["text"]).language for row in csv.DictReader(file)}
    assert found == {"en"}


def test_an_unoffered_shipped_language_is_recognised_not_taken_for_an_offered_one() -> None:
    """With only English and Spanish offered, Polish is identified as Polish (and answered per the unoffered rule)."""
    config = load_routing_text(OFFICE_EN_ES, "routing.yaml")
    identifier = LanguageIdentifier(identifiable_languages(config))
    text = "Dzień dobry, na mojej ulicy od tygodnia nie świeci latarnia i jest bardzo ciemno."
    assert identifier.identify(text).language == "pl"
