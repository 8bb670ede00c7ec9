"""Internal notes: which staff text stays on the department side, as the relay and the desk both read it."""

from __future__ import annotations

from bot.notes import as_internal_note, is_internal_note, without_note_mark


def test_text_starting_with_note_in_any_case_after_spaces_is_a_note() -> None:
    """``  NOTE: …`` is an internal note; a reply mentioning a note later is not."""
    assert (is_internal_note("  NOTE: call back"), is_internal_note("See the note: below")) == (True, False)


def test_marking_a_note_twice_adds_the_prefix_once() -> None:
    """The desk's note button marks unmarked text and leaves marked text alone."""
    marked = (as_internal_note("call back"), as_internal_note("Note: call back"))
    assert marked == ("note: call back", "Note: call back")


def test_a_note_shown_under_a_note_label_loses_its_mark() -> None:
    """The desk shows a note's words without the ``note:`` its label already says."""
    assert without_note_mark("note:  call back") == "call back"
