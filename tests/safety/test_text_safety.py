"""Text cleaning and the internal-note decision (bot/text_safety.py)."""

from __future__ import annotations

import pytest

from bot.text_safety import clean_text, is_internal_note


def test_nul_byte_is_removed() -> None:
    """A NUL byte, which PostgreSQL cannot store, is dropped."""
    assert clean_text("pot\x00hole") == "pothole"


def test_other_c0_controls_are_removed_but_newline_and_tab_kept() -> None:
    """Bell, escape and friends go; line breaks and tabs stay."""
    assert clean_text("a\x07b\x1b[31mc\nd\te\x7f") == "ab[31mc\nd\te\x7f"


def test_carriage_return_is_removed() -> None:
    """A carriage return is a C0 control too: only newline and tab are kept."""
    assert clean_text("line one\r\nline two") == "line one\nline two"


def test_lone_surrogate_becomes_replacement_character() -> None:
    """A lone surrogate, which SQLite's UTF-8 cannot hold, is replaced by U+FFFD."""
    assert clean_text("bad \ud800 text") == "bad \ufffd text"


def test_split_surrogate_pair_is_joined_not_replaced() -> None:
    """An emoji that arrived as two surrogate code points is kept as the emoji."""
    assert clean_text("ok \ud83d\ude00") == "ok \U0001f600"


def test_text_is_normalised_to_nfc() -> None:
    """A decomposed é (e + combining acute) is stored composed."""
    assert clean_text("cafe\u0301") == "caf\u00e9"


def test_ordinary_text_is_unchanged() -> None:
    """Everyday text, emoji included, passes through as it was."""
    text = "My bin 🗑️ was not collected — 3 weeks now.\n\tThanks"
    assert clean_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "note: call back tomorrow",
        "note:call back",
        "Note: call back",
        "NOTE: call back",
        "  note: leading spaces",
        "\tnote: leading tab",
        "\nnote: leading newline",
        "note : with a space before the colon",
        "Note : capitalised with a space",
        "note\t: tab before the colon",
        "NOTE：full-width colon",
        "ｎｏｔｅ: full-width letters",
        "ｎｏｔｅ：full-width letters and colon",
        "\u200bnote: zero-width space first",
        "\u200c\u200dnote: zero-width joiners first",
        "\u2060note: word joiner first",
        "\ufeffnote: byte order mark first",
        "\u200enote: left-to-right mark first",
        "\u202enote: right-to-left override first",
        "\u2066note: isolate first",
        "\u00a0note: no-break space first",
        "\u3000note: ideographic space first",
        "n\u200bote: zero-width inside the word",
    ],
)
def test_internal_note_is_recognised_however_it_is_written(text: str) -> None:
    """Every way of writing ``note:`` that a person reads as a note counts as one."""
    assert is_internal_note(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hello, a note: we fixed it",
        "notes: are not notes",
        "notebook: bring it",
        "not: quite",
        "note without a colon",
        "",
        "   ",
        "Your pothole is fixed.",
    ],
)
def test_ordinary_reply_is_not_a_note(text: str) -> None:
    """A reply that does not start with the word ``note`` and a colon is not a note."""
    assert not is_internal_note(text)
