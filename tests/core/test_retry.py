"""The one backoff rule every retrying loop uses: how long it waits, and when it starts over."""

from __future__ import annotations

import pytest

from bot.delivery import jittered_backoff
from bot.retry import Attempts, Backoff, steady


class FakeSleep:
    """Records the waits asked for instead of waiting."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_backoff_doubles_from_the_first_wait_up_to_the_cap() -> None:
    """Each failure in a row waits twice as long as the one before, never longer than the cap."""
    backoff = Backoff(first=1.0, cap=10.0)
    assert [backoff(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_backoff_stays_at_the_cap_after_very_many_failures() -> None:
    """A loop failing for days waits the cap, without the power overflowing."""
    assert Backoff(first=1.0, cap=300.0)(100_000) == 300.0


@pytest.mark.parametrize(("rand", "expected"), [(0.0, 3.2), (0.5, 4.0), (1.0, 4.8)])
def test_jitter_spreads_a_wait_within_its_share(rand: float, expected: float) -> None:
    """A 20% jitter puts the third wait (4 s) anywhere between 3.2 s and 4.8 s."""
    backoff = Backoff(first=1.0, cap=60.0, jitter=0.2, rand=lambda: rand)
    assert backoff(3) == pytest.approx(expected)


def test_steady_backoff_waits_the_same_every_time() -> None:
    """A steady backoff (a standby's poll) waits its interval after every failure."""
    assert {steady(0.5)(n) for n in range(1, 50)} == {0.5}


def test_delivery_retries_wait_from_one_second_to_five_minutes_within_twenty_percent() -> None:
    """A delivery's n-th failure waits 2^(n-1) seconds, at most five minutes, ±20%."""
    for attempts, base in [(0, 1.0), (1, 1.0), (2, 2.0), (5, 16.0), (9, 256.0), (10, 300.0), (50, 300.0)]:
        assert 0.8 * base <= jittered_backoff(attempts) <= 1.2 * base


async def test_attempts_sleep_longer_after_each_failure() -> None:
    """A loop failing three times in a row waits 1, 2 and 4 seconds."""
    sleep = FakeSleep()
    attempts = Attempts(Backoff(first=1.0, cap=60.0), sleep=sleep)
    for _ in range(3):
        await attempts.back_off()
    assert sleep.slept == [1.0, 2.0, 4.0]


async def test_attempts_start_over_after_a_success() -> None:
    """After a success the next failure waits as long as a first one."""
    sleep = FakeSleep()
    attempts = Attempts(Backoff(first=1.0, cap=60.0), sleep=sleep)
    await attempts.back_off()
    await attempts.back_off()
    attempts.succeeded()
    await attempts.back_off()
    assert sleep.slept == [1.0, 2.0, 1.0]


async def test_failed_says_the_wait_that_pause_then_sleeps() -> None:
    """A loop may log the wait ``failed`` names before pausing exactly that long."""
    sleep = FakeSleep()
    attempts = Attempts(Backoff(first=1.0, cap=60.0, jitter=0.2), sleep=sleep)
    wait = attempts.failed()
    await attempts.pause(wait)
    assert (attempts.failures, sleep.slept) == (1, [wait])
