"""Which citizen chats this process last saw with a case open: a first message is routed before its transaction.

The router's sentence encoder never runs inside a transaction: a body that needs a decision
rolls back and runs again with one (``RoutingNeededError``). That costs every first message a
whole rolled-back attempt (about a quarter of its statements). A message from a chat this
process has not seen with a case open is most likely a first message, so the relay routes it
before the transaction and the body finds its decision ready.

This memory is a guess, never the truth: the transaction still reads the chat's case. A chat
wrongly thought to have no case (another process opened it, or this one restarted) costs one
routing the body does not use; one wrongly thought to have a case (another process closed it)
costs the rolled-back attempt, as before. Nothing is lost either way.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from bot.model import Address

#: How many chats are remembered (the least recently seen are forgotten first): about 100 bytes each.
REMEMBERED = 50_000


class OpenChats:
    """The chats last seen with a case open, least recently seen forgotten first."""

    def __init__(self, *, limit: int = REMEMBERED) -> None:
        self._open: OrderedDict[Address, None] = OrderedDict()
        self._limit = limit

    def has_case(self, chat: Address) -> bool:
        """Whether ``chat`` was last seen with a case open (pending included)."""
        return chat in self._open

    def learn(self, seen: Mapping[Address, bool]) -> None:
        """What a committed transaction saw: each chat with (True) or without (False) a case open."""
        for chat, open_case in seen.items():
            if not open_case:
                self._open.pop(chat, None)
                continue
            self._open[chat] = None
            self._open.move_to_end(chat)
            if len(self._open) > self._limit:
                self._open.popitem(last=False)

    def __len__(self) -> int:
        """How many chats are remembered with a case open."""
        return len(self._open)
