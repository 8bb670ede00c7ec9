"""What a transaction body asks to happen once, after its commit (metrics today).

``Store.atomic`` may run a body again when a unique key lost a race, so a body
never counts anything itself: it notes the count here, and the caller fires
the notes once ``atomic`` has returned. A retried body starts a fresh note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.model import Address, DepartmentKey, Platform
from bot.ports import RelayObserver


@dataclass(slots=True)
class Effects:
    """The notes of one transaction attempt; mutable while its body runs, fired once after the commit."""

    accepted: list[Platform] = field(default_factory=list)
    routed: list[DepartmentKey] = field(default_factory=list)
    #: Consultations that got an answer (a new or changed one): live results refresh after the commit.
    answered: list[int] = field(default_factory=list)
    #: Citizen chats seen with (True) or without (False) a case open: whom the relay may route ahead next time.
    chats: dict[Address, bool] = field(default_factory=dict)

    def fire(self, observer: RelayObserver) -> None:
        """Tell the observer what the committed transaction did."""
        for platform in self.accepted:
            observer.message_in(platform)
        for department in self.routed:
            observer.routed(department)


class SilentObserver:
    """Counts nothing: the relay works the same without metrics."""

    def message_in(self, platform: str) -> None:
        """Nothing to count."""

    def routed(self, department: str) -> None:
        """Nothing to count."""
