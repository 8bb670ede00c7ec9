"""What the set-aside tests of every intake share: fakes with a bug on one word, and the set-aside list."""

from __future__ import annotations

from bot.saved_answers import SavedAnswer, SavedAnswers
from bot.storage.set_aside import SetAside
from bot.storage.store import Store, Tx
from tests.fakes import FakeDecision, KeywordRouter

#: The word the buggy fakes raise on.
POISON = "poison"
#: Text with what no database holds as it is: a NUL byte (PostgreSQL) and a lone surrogate (SQLite).
DIRTY_TEXT = "pot\x00hole \ud800 on Mill Lane"
#: ``DIRTY_TEXT`` as it is stored and relayed: the NUL dropped, the surrogate a U+FFFD.
CLEAN_TEXT = "pothole \ufffd on Mill Lane"


class BrokenRouter(KeywordRouter):
    """A router with a bug: it raises on one word (an unexpected error inside ``relay.accept``)."""

    def route(self, text: str, *, language: str | None = None) -> FakeDecision:
        if POISON in text:
            raise ValueError("a bug in the router")
        return super().route(text, language=language)


class BrokenAnswers(SavedAnswers):
    """Saved answers with a bug: looking one key up raises (an unexpected error inside a staff event)."""

    __slots__ = ()

    def find(self, key: str, department: str) -> SavedAnswer | None:
        if POISON in key:
            raise ValueError("a bug in the saved answers")
        return super().find(key, department)


async def set_aside_events(store: Store) -> list[SetAside]:
    """The events set aside so far, oldest first."""

    async def read(tx: Tx) -> list[SetAside]:
        return list(await tx.set_aside_events())

    return await store.read(read)
