"""Counting an inbound event's failed tries, so that one that never goes in is set aside and the intake moves on.

Platforms send an event again until the bridge takes it (Telegram refetches, Slack
retries, Discord's adapter loops): an event that fails every time would hold up
every later one. After ``tries`` failures in a row the relay keeps it aside
(``set_aside_events``), counts it in /healthz, and answers as if it was taken in.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.model import Platform

#: Failed tries of one event before it is set aside.
SET_ASIDE_AFTER = 3


class FailedTries:
    """Failures per (platform, event id) in this process, the most recent ``remember`` events only."""

    def __init__(self, *, remember: int = 1000) -> None:
        self._tries: OrderedDict[tuple[Platform, str], int] = OrderedDict()
        self._remember = remember

    def failed(self, platform: Platform, event_id: str) -> int:
        """Count one more failure; returns how many in a row so far."""
        key = (platform, event_id)
        tries = self._tries.pop(key, 0) + 1
        self._tries[key] = tries
        while len(self._tries) > self._remember:
            self._tries.popitem(last=False)
        return tries

    def succeeded(self, platform: Platform, event_id: str) -> None:
        """The event went in: forget its failures."""
        if self._tries:
            self._tries.pop((platform, event_id), None)
