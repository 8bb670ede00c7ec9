"""Language identification restricted to the languages the office expects."""

from __future__ import annotations

from routing.language import LanguageIdentifier


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
