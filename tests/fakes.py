"""In-memory fakes: citizen and department platforms that record sends, a router, a clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic

from bot.events import (
    CitizenCommand,
    CitizenCommandKind,
    CitizenMessage,
    MenuChoice,
    Sender,
    StaffAction,
    StaffActionKind,
    StaffEdit,
    StaffMessage,
)
from bot.model import (
    Address,
    BodyT,
    CitizenReply,
    DepartmentKey,
    FileData,
    Outgoing,
    Platform,
    PostKind,
    Sent,
    ThreadPost,
)
from bot.ports import DeliveryError, InboundSink

_ids = itertools.count(1)


def next_id() -> str:
    """A fresh event or message id, unique within the test run."""
    return str(next(_ids))


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


class _Recorder(Generic[BodyT]):
    """Shared by both fakes: records sends, raises queued failures first."""

    def __init__(self, platform: str) -> None:
        self._platform = Platform(platform)
        self.sink: InboundSink | None = None
        self.sent: list[Outgoing[BodyT]] = []
        self.failures: list[DeliveryError] = []
        self.attempts = 0

    @property
    def platform(self) -> Platform:
        return self._platform

    def health(self) -> str:
        return "up" if self.sink is not None else "down"

    async def start(self, sink: InboundSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.sink = None

    def fail_next(self, *errors: DeliveryError) -> None:
        """The next sends raise these, in order, before sends succeed again."""
        self.failures.extend(errors)

    async def send(self, out: Outgoing[BodyT]) -> Sent:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(out)
        return self._sent(out)

    def _sent(self, out: Outgoing[BodyT]) -> Sent:
        del out
        return Sent(message_id=f"m{next_id()}")

    async def _deliver(self, event: object) -> None:
        assert self.sink is not None, "start the fake before it receives"
        await self.sink.accept(event)  # type: ignore[arg-type]  # each caller passes an InboundEvent


class FakeCitizenPlatform(_Recorder[CitizenReply]):
    """A citizen platform (Telegram-like): ``receive`` is a citizen writing, ``replies`` what they read."""

    def sender(self, user: int | str, name: str = "Ada Citizen", language: str | None = "en") -> Sender:
        """The citizen with this platform user id."""
        return Sender(self.platform, str(user), name, language)

    def chat(self, user: int | str) -> Address:
        """The private chat with this user (chat id = user id, as on Telegram)."""
        return Address(self.platform, str(user))

    async def receive(
        self,
        *,
        user: int | str,
        text: str,
        event_id: str | None = None,
        files: Iterable[FileData] = (),
        edited: bool = False,
        name: str = "Ada Citizen",
        language: str | None = "en",
    ) -> str:
        """A citizen writes (``language``: their platform's locale); returns the event id used."""
        event_id = event_id or next_id()
        await self._deliver(
            CitizenMessage(
                event_id=event_id,
                sender=self.sender(user, name, language),
                chat=self.chat(user),
                text=text,
                files=tuple(files),
                source_id=f"src{event_id}",
                edited=edited,
            )
        )
        return event_id

    async def command(
        self, *, user: int | str, command: CitizenCommandKind, argument: str = "", language: str | None = "en"
    ) -> None:
        """A citizen uses a command such as /start, /status or /language es."""
        sender = self.sender(user, language=language)
        await self._deliver(CitizenCommand(next_id(), sender, self.chat(user), command, argument))

    async def choose(self, *, user: int | str, choice: str) -> None:
        """A citizen presses a menu button."""
        await self._deliver(MenuChoice(next_id(), self.sender(user), self.chat(user), choice))

    def replies(self, user: int | str | None = None) -> list[CitizenReply]:
        """What citizens (or one citizen) were sent, in order."""
        return [out.body for out in self.sent if user is None or out.target.chat == str(user)]

    def texts(self, user: int | str | None = None) -> list[str]:
        """The texts of ``replies``."""
        return [reply.text for reply in self.replies(user)]


@dataclass
class Thread:
    """A thread the fake department platform opened for a case."""

    channel: str
    ts: str
    reference: str
    posts: list[ThreadPost] = field(default_factory=list)


class FakeDepartmentPlatform(_Recorder[ThreadPost]):
    """A department platform (Slack-like): one thread per ROOT post; staff write with ``reply``."""

    def __init__(self, platform: str = "slack") -> None:
        super().__init__(platform)
        self.threads: list[Thread] = []
        self.updates: list[ThreadPost] = []
        self.receipts: list[str] = []
        self.erased: list[str] = []
        #: Escalation posts outside a case thread: (channel, post).
        self.escalations: list[tuple[str, ThreadPost]] = []
        self.results: list[Thread] = []

    def _sent(self, out: Outgoing[ThreadPost]) -> Sent:
        body = out.body
        message_id = f"17000000{next_id().zfill(2)}.000100"
        if body.kind is PostKind.ROOT:
            self.threads.append(Thread(out.target.chat, message_id, body.card.reference, [body]))
            return Sent(message_id=message_id, thread=message_id)
        if body.kind in {PostKind.RESULTS, PostKind.RESULTS_UPDATE, PostKind.RESULTS_TEXT}:
            return self._results_post(out.target, body, message_id)
        if body.kind is PostKind.ERASE:  # replaces an earlier post ``about`` with "[erased]"
            assert body.about is not None
            self.erased.append(body.about)
            return Sent(message_id=body.about)
        if body.kind is PostKind.ESCALATION and out.target.thread is None:
            self.escalations.append((out.target.chat, body))
            return Sent(message_id=message_id)
        thread = self.thread_at(out.target)
        if body.kind is PostKind.ROOT_UPDATE:
            self.updates.append(body)
        elif body.kind is PostKind.RECEIPT:
            assert body.about is not None
            self.receipts.append(body.about)
        else:
            thread.posts.append(body)
        return Sent(message_id=message_id)

    def _results_post(self, target: Address, body: ThreadPost, message_id: str) -> Sent:
        """A consultation's results message (a thread of its own, apart from case threads), its updates, its texts."""
        if body.kind is PostKind.RESULTS:
            self.results.append(Thread(target.chat, message_id, body.card.reference, [body]))
            return Sent(message_id=message_id, thread=message_id)
        thread = [t for t in self.results if t.reference == body.card.reference][-1]
        thread.posts.append(body)
        return Sent(message_id=thread.ts if body.kind is PostKind.RESULTS_UPDATE else message_id)

    def thread_at(self, target: Address) -> Thread:
        """The thread a post was sent to (it must exist)."""
        matches = [t for t in self.threads if t.channel == target.chat and t.ts == target.thread]
        assert matches, f"no thread {target}"
        return matches[0]

    async def case_reference(self, thread: Address) -> str | None:
        """The case a thread's root names, as Slack's root metadata does (``bot.ports.ThreadOwner``)."""
        matches = [t for t in self.threads if t.channel == thread.chat and t.ts == thread.thread]
        return matches[0].reference if matches else None

    def thread_of(self, reference: str) -> Thread:
        """The newest thread opened for a case reference."""
        return [t for t in self.threads if t.reference == reference][-1]

    def address(self, thread: Thread) -> Address:
        """The platform address of a thread, as an adapter would report it."""
        return Address(self.platform, thread.channel, thread.ts)

    async def reply(
        self,
        thread: Thread,
        text: str,
        *,
        author: str = "Grace Officer",
        is_bot: bool = False,
        event_id: str | None = None,
        source_id: str | None = None,
        files: Iterable[FileData] = (),
    ) -> str:
        """Someone writes in a thread; returns the platform message id used."""
        source_id = source_id or f"s{next_id()}"
        await self._deliver(
            StaffMessage(
                event_id=event_id or next_id(),
                thread=self.address(thread),
                author_id="U0GRACE",
                author_name=author,
                text=text,
                is_bot=is_bot,
                files=tuple(files),
                source_id=source_id,
            )
        )
        return source_id

    async def act(
        self, thread: Thread, action: StaffActionKind, department: str | None = None, reason: str | None = None
    ) -> None:
        """Staff press a button (close, reopen, transfer, claim, erase, keep with a reason)."""
        await self._deliver(
            StaffAction(
                event_id=next_id(),
                thread=self.address(thread),
                actor_id="U0GRACE",
                actor_name="Grace Officer",
                action=action,
                department=DepartmentKey(department) if department else None,
                reason=reason,
            )
        )

    async def edit(self, thread: Thread, source_id: str, *, deleted: bool = False) -> None:
        """Staff edit (or delete) a message already in the thread."""
        await self._deliver(StaffEdit(next_id(), self.address(thread), source_id, deleted))


@dataclass(frozen=True, slots=True)
class FakeDecision:
    """What ``KeywordRouter`` decides."""

    department: str | None
    confidence: float
    reason: str
    candidates: tuple[str, ...] = ()
    language: str | None = None


class KeywordRouter:
    """A predictable router for relay tests: the first keyword found wins; ``both`` is unsure.

    ``languages`` maps marker words to the language a text holding one is identified as; with none,
    the language is the locale given, as the real router does with a text too short to tell.
    """

    def __init__(self, keywords: dict[str, str], fallback: str, *, languages: dict[str, str] | None = None) -> None:
        self._keywords = keywords
        self._fallback = fallback
        self._languages = languages or {}

    def route_all(self, questions: Sequence[tuple[str, str | None]]) -> list[FakeDecision]:
        """One by one, through ``route`` (which a test's router may change)."""
        return [self.route(text, language=language) for text, language in questions]

    def route(self, text: str, *, language: str | None = None) -> FakeDecision:
        words = text.lower().split()
        identified = next((code for word, code in self._languages.items() if word in words), language)
        found = [dept for word, dept in self._keywords.items() if word in text.lower()]
        if len(set(found)) > 1:
            return FakeDecision(None, 0.4, "several keywords", tuple(dict.fromkeys(found)), identified)
        if found:
            return FakeDecision(found[0], 0.9, "keyword", language=identified)
        return FakeDecision(self._fallback, 0.1, "no keyword: fallback", language=identified)
