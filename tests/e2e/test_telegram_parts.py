"""Telegram adapter parts without a network: rendering, splitting, flood control, settings."""

from __future__ import annotations

import pytest

from adapters.pacing import PaceWaitError, SendPace
from adapters.telegram import from_settings
from adapters.telegram.adapter import default_retry_delay, file_url_for
from adapters.telegram.render import render, split_text, utf16_len
from bot.model import CitizenReply, MenuOption, ReplyKind
from config.settings import Settings, SettingsError
from tests.bridge import DIRECTORY


class FakeTime:
    """A monotonic clock and a sleep that only moves it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_split_cuts_at_the_last_space_within_the_limit() -> None:
    """A long text is cut between words, never inside one."""
    assert split_text("alpha beta gamma delta", limit=11) == ["alpha beta", "gamma delta"]


def test_split_prefers_paragraph_breaks() -> None:
    """Where a paragraph break fits, the cut falls there rather than at the last space."""
    assert split_text("one two\n\nthree four five", limit=20) == ["one two", "three four five"]


def test_split_cuts_an_overlong_word_at_the_limit() -> None:
    """A word longer than the limit (a long link) is cut where the limit falls."""
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_counts_utf16_units_like_telegram() -> None:
    """Emoji count as two units, as Telegram counts them."""
    parts = split_text("😀" * 6, limit=5)
    assert all(utf16_len(part) <= 5 for part in parts)
    assert "".join(parts) == "😀" * 6


def test_render_escapes_html_and_signs() -> None:
    """Staff text is escaped for HTML; the signature follows in italics."""
    reply = CitizenReply(ReplyKind.STAFF, "a < b & c > d", "CB-1234", signature="Roads & Transport")
    assert render(reply).parts == ("a &lt; b &amp; c &gt; d\n\n— <i>Roads &amp; Transport</i>",)


def test_render_puts_signature_apart_when_the_last_part_is_full() -> None:
    """When the signature does not fit after the last part it becomes a message of its own."""
    reply = CitizenReply(ReplyKind.STAFF, "word " * 12, "CB-1234", signature="Housing")
    assert render(reply, limit=20).parts[-1] == "— <i>Housing</i>"


def test_menu_buttons_are_dropped_when_a_key_is_too_long_for_telegram() -> None:
    """Callback data over 64 bytes cannot be sent: the numbered text menu is used alone."""
    reply = CitizenReply(ReplyKind.MENU, "Pick one", "CB-1234", options=(MenuOption("k" * 65, "Long"),))
    assert render(reply).keyboard == ()


async def test_flood_control_spaces_messages_in_one_chat() -> None:
    """Messages to one chat go a second apart; another chat only keeps the overall spacing."""
    time = FakeTime()
    flood = SendPace(per_chat_interval=1.0, overall_rate=25.0, clock=time, sleep=time.sleep)
    await flood.wait("1")
    await flood.wait("2")
    await flood.wait("1")
    assert time.slept == [pytest.approx(0.04), pytest.approx(0.96)]


async def test_flood_control_holds_the_overall_rate() -> None:
    """Messages to many chats go no faster than the overall rate."""
    time = FakeTime()
    flood = SendPace(per_chat_interval=1.0, overall_rate=10.0, clock=time, sleep=time.sleep)
    for chat in range(5):
        await flood.wait(str(chat))
    assert time.now == pytest.approx(100.4)


async def test_flood_control_hands_long_waits_back() -> None:
    """A wait beyond max_wait raises PaceWaitError with the seconds, instead of sleeping."""
    time = FakeTime()
    flood = SendPace(per_chat_interval=5.0, overall_rate=25.0, max_wait=3.0, clock=time, sleep=time.sleep)
    await flood.wait("1")
    with pytest.raises(PaceWaitError) as raised:
        await flood.wait("1")
    assert raised.value.seconds == pytest.approx(5.0)
    assert time.slept == []


def test_file_url_sits_beside_the_api_url() -> None:
    """Downloads use /file/bot<token>/ next to the Bot API base, for the cloud and a local server alike."""
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"


def test_webhook_without_secret_is_a_settings_error() -> None:
    """A webhook URL without a secret is refused with a message naming the variable."""
    settings = Settings(
        telegram_token="1:x",  # noqa: S106  # a made-up token
        telegram_webhook_url="https://bridge.example.gov/telegram/webhook",
    )
    with pytest.raises(SettingsError, match="BRIDGE_TELEGRAM_WEBHOOK_SECRET"):
        from_settings(settings, directory=DIRECTORY)


def test_webhook_secret_with_bad_characters_is_a_settings_error() -> None:
    """Telegram accepts only letters, digits, _ and - in the secret; others are refused up front."""
    settings = Settings(
        telegram_token="1:x",  # noqa: S106  # a made-up token
        telegram_webhook_url="https://bridge.example.gov/telegram/webhook",
        telegram_webhook_secret="not ok!",  # noqa: S106  # the point of the test
    )
    with pytest.raises(SettingsError, match="letters, digits"):
        from_settings(settings, directory=DIRECTORY)


def test_reconnect_waits_double_from_two_seconds_to_a_minute() -> None:
    """After n failures in a row to reach Telegram the adapter waits 2^n seconds, at most a minute."""
    assert [default_retry_delay(n) for n in range(1, 8)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
