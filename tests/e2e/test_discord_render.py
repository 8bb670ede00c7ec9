"""Discord rendering without a network: escaping, splitting, commands."""

from __future__ import annotations

from adapters.discord.render import MESSAGE_LIMIT, command_of, escape, nonce, split
from bot.events import CitizenCommandKind


def test_split_keeps_parts_within_the_limit_and_loses_no_word() -> None:
    """Splitting cuts between words, never exceeds 2,000 characters and keeps every word."""
    text = " ".join(f"w{n}" for n in range(1500))
    parts = split(text)
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert " ".join(parts).split() == text.split()


def test_split_without_spaces_never_separates_an_escape() -> None:
    """A hard cut inside a long run of escaped characters keeps each backslash with its character."""
    text = escape("*" * 3000)
    parts = split(text)
    assert all(len(part) <= MESSAGE_LIMIT and part.startswith("\\*") and len(part) % 2 == 0 for part in parts)
    assert "".join(parts) == text


def test_short_text_is_one_part() -> None:
    """Text within the limit is sent as it is."""
    assert split("Hello") == ["Hello"]


def test_commands_are_recognised_only_on_their_own() -> None:
    """``!status`` alone is a command; in a sentence it is text."""
    assert command_of(" !STATUS ") is CitizenCommandKind.STATUS
    assert command_of("!status of my case please") is None
    assert command_of("status") is None


def test_nonce_is_stable_per_part_and_fits_discord() -> None:
    """The same delivery part always gets the same nonce, of at most 25 characters."""
    assert nonce("d42", 0) == nonce("d42", 0) != nonce("d42", 1)
    assert len(nonce("d42", 0)) <= 25
