"""The relay, driven end to end through fake citizen and department platforms."""

from __future__ import annotations

import asyncio
import logging
import re
import threading

import pytest

from bot.events import CitizenCommandKind, StaffActionKind
from bot.model import CaseStatus, FileData, PostKind, ReplyKind
from bot.ports import DeliveryError
from bot.storage.store import Store
from tests.bridge import KEYWORDS, Bridge, build_bridge
from tests.fakes import FakeClock, FakeDecision, KeywordRouter

REFERENCE = re.compile(r"[A-Z]{2,}-[0-9A-Z-]{4,}")


async def test_first_message_opens_one_thread_in_routed_channel(bridge: Bridge) -> None:
    """A citizen's first message opens one thread in the department's channel."""
    await bridge.telegram.receive(user=111, text="My bin was not collected")
    await bridge.settle()
    assert [thread.channel for thread in bridge.slack.threads] == ["C0WASTE"]


async def test_thread_root_carries_reference_department_and_citizen(bridge: Bridge) -> None:
    """The thread root names the case, its department, platform and citizen, with the first message."""
    await bridge.telegram.receive(user=111, text="My bin was not collected", name="Ada Lovelace")
    await bridge.settle()
    root = bridge.slack.threads[0].posts[0]
    assert root.kind is PostKind.ROOT
    assert REFERENCE.fullmatch(root.card.reference)
    assert (root.card.department_name, root.card.platform, root.card.citizen_name) == (
        "Waste & Recycling",
        "telegram",
        "Ada Lovelace",
    )
    assert root.text == "My bin was not collected"


async def test_citizen_gets_acknowledgement_with_reference_and_department(bridge: Bridge) -> None:
    """The citizen is told their case reference and which department has it."""
    await bridge.telegram.receive(user=111, text="There is a pothole on Mill Lane")
    await bridge.settle()
    [ack] = bridge.telegram.replies(111)
    reference = bridge.slack.threads[0].reference
    assert ack.kind is ReplyKind.ACK
    assert reference in ack.text
    assert "Roads & Transport" in ack.text


async def test_later_messages_join_the_same_thread(bridge: Bridge) -> None:
    """A second message of the same citizen goes into the case's thread, not a new one."""
    await bridge.telegram.receive(user=111, text="There is a pothole on Mill Lane")
    await bridge.telegram.receive(user=111, text="It is getting bigger")
    await bridge.settle()
    assert len(bridge.slack.threads) == 1
    assert [post.text for post in bridge.slack.threads[0].posts] == [
        "There is a pothole on Mill Lane",
        "It is getting bigger",
    ]


class HeldRouter(KeywordRouter):
    """Routes as ``KeywordRouter``, a message about a pothole only once ``go`` is set: slow on the first message."""

    def __init__(self) -> None:
        super().__init__(KEYWORDS, "general")
        self.go = threading.Event()

    def route(self, text: str, *, language: str | None = None) -> FakeDecision:
        if "pothole" in text:
            self.go.wait(timeout=5)
        return super().route(text, language=language)


async def test_a_message_sent_while_the_first_is_routed_waits_its_turn(store: Store, clock: FakeClock) -> None:
    """Two quick messages (Discord and the web chat hand them over at once): the first opens the case, in order.

    The second must not open the case with its own words while the router is still reading the first.
    """
    router = HeldRouter()
    async with build_bridge(store, clock, router=router) as bridge:
        first = asyncio.create_task(bridge.telegram.receive(user=111, text="There is a pothole on Mill Lane"))
        second = asyncio.create_task(bridge.telegram.receive(user=111, text="It is getting bigger"))
        for _ in range(20):  # the second has every chance to go in first
            await asyncio.sleep(0.01)
        router.go.set()
        await asyncio.gather(first, second)
        await bridge.settle()
        [thread] = bridge.slack.threads
        assert thread.channel == "C0ROADS"
        assert [post.text for post in thread.posts] == ["There is a pothole on Mill Lane", "It is getting bigger"]


async def test_two_citizens_get_two_cases(bridge: Bridge) -> None:
    """Different citizens never share a case."""
    await bridge.telegram.receive(user=111, text="pothole here")
    await bridge.telegram.receive(user=222, text="pothole there")
    await bridge.settle()
    assert len({thread.reference for thread in bridge.slack.threads}) == 2


async def test_staff_reply_reaches_citizen_signed_with_department(bridge: Bridge) -> None:
    """A person's reply in the thread reaches the citizen, signed with the department's name."""
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane")
    await bridge.settle()
    await bridge.slack.reply(bridge.slack.threads[0], "We will fix it this week.")
    await bridge.settle()
    reply = bridge.telegram.replies(111)[-1]
    assert (reply.kind, reply.text, reply.signature) == (
        ReplyKind.STAFF,
        "We will fix it this week.",
        "Roads & Transport",
    )


async def test_officer_first_name_signs_where_the_department_asks(bridge: Bridge) -> None:
    """A department configured to sign with the officer's name adds their first name."""
    await bridge.telegram.receive(user=111, text="my rent is too high")
    await bridge.settle()
    await bridge.slack.reply(bridge.slack.threads[0], "Let us look.", author="Grace Hopper")
    await bridge.settle()
    assert bridge.telegram.replies(111)[-1].signature == "Grace, Housing"


async def test_note_stays_internal(bridge: Bridge) -> None:
    """A thread message starting with note: (any case, leading spaces) never reaches the citizen."""
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane")
    await bridge.settle()
    before = len(bridge.telegram.sent)
    await bridge.slack.reply(bridge.slack.threads[0], "  NOTE: check with the contractor first")
    await bridge.settle()
    assert len(bridge.telegram.sent) == before


async def test_bot_messages_are_not_relayed(bridge: Bridge) -> None:
    """Messages by bots (ours included) in a case thread never reach the citizen."""
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane")
    await bridge.settle()
    before = len(bridge.telegram.sent)
    await bridge.slack.reply(bridge.slack.threads[0], "automated reminder", is_bot=True)
    await bridge.settle()
    assert len(bridge.telegram.sent) == before


async def test_unknown_thread_is_ignored(bridge: Bridge) -> None:
    """A reply in a thread the bridge never opened goes nowhere."""
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane")
    await bridge.settle()
    stranger = bridge.slack.threads[0]
    stranger = type(stranger)(stranger.channel, "1600000000.000001", stranger.reference)
    before = len(bridge.telegram.sent)
    await bridge.slack.reply(stranger, "hello?")
    await bridge.settle()
    assert len(bridge.telegram.sent) == before


async def test_duplicate_inbound_is_processed_once(bridge: Bridge) -> None:
    """The same event delivered twice opens one case and posts once."""
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane", event_id="update-7")
    await bridge.telegram.receive(user=111, text="pothole on Mill Lane", event_id="update-7")
    await bridge.settle()
    assert len(bridge.slack.threads) == 1
    assert len(bridge.slack.threads[0].posts) == 1
    assert len(bridge.telegram.replies(111)) == 1


async def test_concurrent_duplicates_are_processed_once(bridge: Bridge) -> None:
    """Two copies of one event arriving at the same time are processed once."""
    await asyncio.gather(*(bridge.telegram.receive(user=111, text="pothole", event_id="update-9") for _ in range(2)))
    await bridge.settle()
    assert len(bridge.slack.threads) == 1
    assert len(bridge.slack.threads[0].posts) == 1


async def test_simultaneous_first_messages_open_one_case(bridge: Bridge) -> None:
    """Ten first messages from one citizen at once end in one case and one thread."""
    await asyncio.gather(*(bridge.telegram.receive(user=111, text=f"pothole number {n}") for n in range(10)))
    await bridge.settle()
    assert len(bridge.slack.threads) == 1
    assert len(bridge.slack.threads[0].posts) == 10


async def test_unsure_routing_sends_a_menu_and_waits(bridge: Bridge) -> None:
    """When routing is unsure the citizen gets a menu of the candidates plus Other, and no thread opens."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.settle()
    [menu] = bridge.telegram.replies(111)
    assert menu.kind is ReplyKind.MENU
    assert [option.key for option in menu.options] == ["roads", "waste", "other"]
    assert bridge.slack.threads == []


async def test_menu_choice_opens_the_case_in_the_chosen_department(bridge: Bridge) -> None:
    """Picking a department from the menu opens the thread there, with the waiting messages."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.receive(user=111, text="photos to follow")
    await bridge.telegram.choose(user=111, choice="roads")
    await bridge.settle()
    [thread] = bridge.slack.threads
    assert thread.channel == "C0ROADS"
    assert [post.text for post in thread.posts] == ["the bin lorry damaged the road", "photos to follow"]
    assert bridge.telegram.replies(111)[-1].kind is ReplyKind.ACK


async def test_menu_answered_by_number_counts_as_a_choice(bridge: Bridge) -> None:
    """A citizen who types the option's number (no buttons) chooses that option."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.receive(user=111, text="1")
    await bridge.settle()
    assert [thread.channel for thread in bridge.slack.threads] == ["C0ROADS"]


async def test_menu_other_goes_to_fallback(bridge: Bridge) -> None:
    """Choosing Other sends the case to the fallback department."""
    await bridge.telegram.receive(user=111, text="the bin lorry damaged the road")
    await bridge.telegram.choose(user=111, choice="other")
    await bridge.settle()
    assert [thread.channel for thread in bridge.slack.threads] == ["C0GENERAL"]


async def test_close_tells_the_citizen_and_updates_the_root(bridge: Bridge) -> None:
    """Closing a case tells the citizen (with the reference) and updates the thread's root."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    await bridge.settle()
    assert thread.reference in bridge.telegram.texts(111)[-1]
    assert "closed" in bridge.telegram.texts(111)[-1]
    assert bridge.slack.updates[-1].card.status is CaseStatus.CLOSED
    assert thread.posts[-1].kind is PostKind.SYSTEM


async def test_message_after_close_opens_a_new_case_linked_to_the_old(bridge: Bridge) -> None:
    """After a close, the citizen's next message opens a new case that names the previous one."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    first = bridge.slack.threads[0]
    await bridge.slack.act(first, StaffActionKind.CLOSE)
    await bridge.telegram.receive(user=111, text="another pothole")
    await bridge.settle()
    second = bridge.slack.threads[1]
    assert second.reference != first.reference
    assert first.reference in second.posts[0].text


async def test_reopen_lets_the_conversation_continue(bridge: Bridge) -> None:
    """A reopened case takes the citizen's next message into its old thread."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    await bridge.slack.act(thread, StaffActionKind.CLOSE)
    await bridge.slack.act(thread, StaffActionKind.REOPEN)
    await bridge.telegram.receive(user=111, text="thanks for reopening")
    await bridge.settle()
    assert len(bridge.slack.threads) == 1
    assert thread.posts[-1].text == "thanks for reopening"
    assert "reopened" in bridge.telegram.texts(111)[-1]


async def test_transfer_opens_a_thread_in_the_new_department_with_history(bridge: Bridge) -> None:
    """A transfer opens a thread in the target channel with the history, tells the old thread and the citizen."""
    await bridge.telegram.receive(user=111, text="pothole by my flat")
    await bridge.settle()
    old = bridge.slack.threads[0]
    await bridge.slack.reply(old, "Is this council housing?")
    await bridge.slack.act(old, StaffActionKind.TRANSFER, "housing")
    await bridge.telegram.receive(user=111, text="yes it is")
    await bridge.settle()
    new = bridge.slack.threads[1]
    assert new.channel == "C0HOUSING"
    assert "pothole by my flat" in new.posts[0].text
    assert "Is this council housing?" in new.posts[0].text
    assert new.posts[-1].text == "yes it is"
    assert "Housing" in old.posts[-1].text
    assert "Housing" in bridge.telegram.texts(111)[-1]
    assert any(update.text.startswith("Transferred to Housing") for update in bridge.slack.updates)


async def test_transfer_to_unknown_department_is_refused_in_the_thread(bridge: Bridge) -> None:
    """Transferring to a department that does not exist changes nothing and says why."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    await bridge.slack.act(thread, StaffActionKind.TRANSFER, "parks")
    await bridge.settle()
    assert len(bridge.slack.threads) == 1
    assert "no department 'parks'" in thread.posts[-1].text


async def test_claim_shows_who_handles_the_case(bridge: Bridge) -> None:
    """Claiming updates the root with the officer and tells the citizen someone has it."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    await bridge.slack.act(bridge.slack.threads[0], StaffActionKind.CLAIM)
    await bridge.settle()
    assert bridge.slack.updates[-1].card.claimed_by == "Grace Officer"
    assert "is now handling your case" in bridge.telegram.texts(111)[-1]  # roads does not sign with names


async def test_delivery_failing_twice_then_succeeding_arrives_once_in_order(bridge: Bridge) -> None:
    """Two transient failures delay a reply; it then arrives once, before the next one."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    bridge.telegram.fail_next(DeliveryError("timeout"), DeliveryError("HTTP 500"))
    await bridge.slack.reply(thread, "first")
    await bridge.slack.reply(thread, "second")
    await bridge.settle()
    staff = [r.text for r in bridge.telegram.replies(111) if r.kind is ReplyKind.STAFF]
    assert staff == ["first", "second"]


async def test_retry_after_is_honoured(bridge: Bridge) -> None:
    """A 429 with Retry-After holds the delivery until that time has passed."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    bridge.telegram.fail_next(DeliveryError("429", retry_after=30))
    await bridge.slack.reply(bridge.slack.threads[0], "soon")
    await bridge.settle()
    assert "soon" not in bridge.telegram.texts(111)
    assert isinstance(bridge.clock, FakeClock)
    bridge.clock.advance(31)
    await bridge.settle()
    assert bridge.telegram.texts(111)[-1] == "soon"


async def test_permanent_failure_is_shown_to_staff(bridge: Bridge) -> None:
    """When the citizen blocked the bot, staff read in the thread that the reply was not delivered."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    bridge.telegram.fail_next(DeliveryError("the citizen blocked the bot", permanent=True))
    await bridge.slack.reply(thread, "hello?")
    await bridge.settle()
    assert "blocked the bot" in thread.posts[-1].text
    assert bridge.telegram.attempts == 2  # the ack, then one try of the reply: no retries


async def test_delivered_staff_reply_gets_a_receipt(bridge: Bridge) -> None:
    """Staff see their reply marked as delivered once the citizen has it."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    source = await bridge.slack.reply(bridge.slack.threads[0], "on it")
    await bridge.settle()
    assert bridge.slack.receipts == [source]


async def test_edit_of_a_sent_reply_is_explained_to_staff(bridge: Bridge) -> None:
    """Editing a reply the citizen already has tells staff the citizen keeps the original."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    thread = bridge.slack.threads[0]
    source = await bridge.slack.reply(thread, "on it")
    await bridge.settle()
    await bridge.slack.edit(thread, source)
    await bridge.settle()
    assert "already has the original" in thread.posts[-1].text


async def test_start_command_greets_with_privacy_notice(bridge: Bridge) -> None:
    """The start command greets the citizen and says what is stored and who sees it."""
    await bridge.telegram.command(user=111, command=CitizenCommandKind.START)
    await bridge.settle()
    [greeting] = bridge.telegram.texts(111)
    assert "Privacy" in greeting
    assert bridge.slack.threads == []


async def test_status_lists_the_citizens_cases(bridge: Bridge) -> None:
    """The status command lists each case with reference, department and status."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.telegram.command(user=111, command=CitizenCommandKind.STATUS)
    await bridge.settle()
    reference = bridge.slack.threads[0].reference
    assert f"{reference} · Roads & Transport · open" in bridge.telegram.texts(111)[-1]


async def test_new_command_closes_the_case_and_the_next_message_opens_another(bridge: Bridge) -> None:
    """After /new the citizen's next message opens a second case."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.telegram.command(user=111, command=CitizenCommandKind.NEW)
    await bridge.telegram.receive(user=111, text="my bin")
    await bridge.settle()
    assert [thread.channel for thread in bridge.slack.threads] == ["C0ROADS", "C0WASTE"]


async def test_oversized_message_is_refused_with_the_limit(bridge: Bridge) -> None:
    """A message over the size limit is not relayed and the citizen is told the limit."""
    await bridge.telegram.receive(user=111, text="x" * 9000)
    await bridge.settle()
    assert bridge.slack.threads == []
    assert "8000" in bridge.telegram.texts(111)[0]


async def test_empty_message_gets_a_polite_refusal(bridge: Bridge) -> None:
    """Content the bridge cannot pass on (no text, no file) gets a polite answer, never a crash."""
    await bridge.telegram.receive(user=111, text="   ")
    await bridge.settle()
    assert bridge.slack.threads == []
    assert "write it as text" in bridge.telegram.texts(111)[0]


async def test_citizen_file_reaches_the_thread_with_its_bytes(bridge: Bridge) -> None:
    """A photo the citizen sends arrives in the thread with the same bytes."""
    photo = FileData("hole.jpg", "image/jpeg", b"\xff\xd8jpeg-bytes")
    await bridge.telegram.receive(user=111, text="pothole", files=[photo])
    await bridge.settle()
    [root_send] = [out for out in bridge.slack.sent if out.body.kind is PostKind.ROOT]
    assert root_send.files == (photo,)


async def test_staff_file_reaches_the_citizen(bridge: Bridge) -> None:
    """A file staff attach in the thread reaches the citizen with the reply."""
    await bridge.telegram.receive(user=111, text="pothole")
    await bridge.settle()
    form = FileData("form.pdf", "application/pdf", b"%PDF-1.4")
    await bridge.slack.reply(bridge.slack.threads[0], "please fill this in", files=[form])
    await bridge.settle()
    assert bridge.telegram.sent[-1].files == (form,)


async def test_retry_after_holds_other_cases_in_the_same_channel(bridge: Bridge) -> None:
    """A 429 for one channel holds every delivery to that channel, whichever case it belongs to."""
    await bridge.telegram.receive(user=111, text="pothole")
    bridge.slack.fail_next(DeliveryError("429", retry_after=30))
    await bridge.settle()
    await bridge.telegram.receive(user=222, text="road")
    await bridge.settle()
    assert len(bridge.slack.threads) == 0
    assert isinstance(bridge.clock, FakeClock)
    bridge.clock.advance(31)
    await bridge.settle()
    assert len(bridge.slack.threads) == 2


async def test_logs_hold_no_message_text(bridge: Bridge, caplog: pytest.LogCaptureFixture) -> None:
    """At the default level nothing the citizen or staff wrote appears in the logs, even when sends fail."""
    with caplog.at_level(logging.INFO):
        await bridge.telegram.receive(user=111, text="my secret pothole on Privet Drive")
        bridge.telegram.fail_next(DeliveryError("HTTP 500"), DeliveryError("blocked", permanent=True))
        await bridge.settle()
        await bridge.slack.reply(bridge.slack.threads[0], "confidential answer for Privet Drive")
        await bridge.settle()
    assert caplog.records, "the failing sends should have been logged"
    assert "Privet" not in caplog.text
