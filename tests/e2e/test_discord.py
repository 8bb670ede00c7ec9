"""Discord end to end: the real discord.py client against the loopback Discord emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from adapters.discord import DiscordAdapter
from bot.model import DISCORD, Address, CitizenReply, FileData, Outgoing, ReplyKind
from bot.ports import DeliveryError
from bot.storage.store import Store
from tests.backends import open_store
from tests.bridge import Bridge, build_bridge
from tests.emulators.discord import (
    BOT_TOKEN,
    DiscordEmulator,
    cannot_message_user,
    rate_limited,
)
from tests.fakes import FakeClock
from tests.waiting import eventually

CITIZEN = 111111111111111111
MAX_FILE_BYTES = 1024


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated SQLite store, for the tests where the backend does not matter."""
    async with open_store("sqlite", tmp_path, clock=clock) as opened:
        yield opened


def adapter_for(emulator: DiscordEmulator, *, helpdesk_channel: int | None = None) -> DiscordAdapter:
    """The Discord adapter pointed at the emulator."""
    return DiscordAdapter(
        token=BOT_TOKEN,
        api_url=emulator.api_url,
        gateway_url=emulator.gateway_url,
        max_file_bytes=MAX_FILE_BYTES,
        helpdesk_channel=helpdesk_channel,
        accept_backoff=0.01,
    )


@asynccontextmanager
async def running(
    store: Store, clock: FakeClock, emulator: DiscordEmulator, *, helpdesk_channel: int | None = None
) -> AsyncIterator[Bridge]:
    """The bridge with the real Discord adapter connected to the emulator and a background delivery worker."""
    adapter = adapter_for(emulator, helpdesk_channel=helpdesk_channel)
    async with build_bridge(store, clock, citizen=[adapter]) as bridge:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="the Discord gateway to be ready")
        async with bridge.worker:
            yield bridge


async def open_case(bridge: Bridge, emulator: DiscordEmulator, text: str = "There is a pothole on my road") -> None:
    """A citizen's first DM, until its thread exists and the acknowledgement reached the DM."""
    await emulator.dm(CITIZEN, text)
    await eventually(lambda: len(bridge.slack.threads) == 1 and len(emulator.sent_to(CITIZEN)) == 1, what="the ack")


async def test_first_dm_opens_thread_and_ack_reaches_dm(
    store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A citizen's first DM opens one thread in the routed channel and the acknowledgement reaches the DM."""
    async with running(store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator)
        [thread] = bridge.slack.threads
        assert thread.channel == "C0ROADS"
        assert thread.posts[0].text == "There is a pothole on my road"
        assert thread.posts[0].card.citizen_name == "Ada Lovelace"
        [ack] = discord_emulator.texts_to(CITIZEN)
        assert thread.reference in ack
        assert "Roads & Transport" in ack


async def test_staff_reply_reaches_dm_escaped_without_mentions(
    store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A staff reply reaches the DM with its markdown escaped, mass mentions defused and no mention allowed."""
    async with running(store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator)
        await bridge.slack.reply(bridge.slack.threads[0], "Use *this* form, @everyone")
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 2, what="the staff reply")
        reply = discord_emulator.sent_to(CITIZEN)[-1]
        assert reply.content == "Use \\*this\\* form, @\u200beveryone\n\n— Roads & Transport"
        assert reply.allowed_mentions == {"parse": []}


async def test_long_staff_reply_is_split_at_word_boundaries(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A staff reply over 2,000 characters arrives as several messages, cut between words, nothing lost."""
    words = [f"word{n}" for n in range(700)]
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator)
        await bridge.slack.reply(bridge.slack.threads[0], " ".join(words))
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 4, what="the split reply")
        parts = discord_emulator.texts_to(CITIZEN)[1:]
        assert all(len(part) <= 2000 for part in parts)
        assert " ".join(parts).split() == [*words, "—", "Roads", "&", "Transport"]


async def test_citizen_attachment_reaches_thread(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A file a citizen attaches to a DM is downloaded and travels with the message to the thread."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(CITIZEN, "Pothole photo", attachments=(("hole.jpg", b"\xff\xd8jpeg", "image/jpeg"),))
        await eventually(lambda: len(bridge.slack.sent) == 1, what="the thread root")
        [root] = bridge.slack.sent
        assert [(f.name, f.mime_type, f.data) for f in root.files] == [("hole.jpg", "image/jpeg", b"\xff\xd8jpeg")]


async def test_staff_attachment_reaches_dm_as_file(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A file staff attach to a reply reaches the DM as a Discord attachment (multipart upload)."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator)
        form = FileData("form.pdf", "application/pdf", b"%PDF-1.4")
        await bridge.slack.reply(bridge.slack.threads[0], "Here is the form", files=[form])
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 2, what="the reply with its file")
        reply = discord_emulator.sent_to(CITIZEN)[-1]
        assert reply.files == [("form.pdf", b"%PDF-1.4")]
        assert reply.content.startswith("Here is the form")


async def test_too_large_attachment_is_refused_and_citizen_told(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A DM with a file over the size cap is not relayed, and the citizen is told why."""
    big = (("scan.pdf", b"x" * (MAX_FILE_BYTES + 1), "application/pdf"),)
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(CITIZEN, "My pothole report", attachments=big)
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 1, what="the refusal")
        assert "too large" in discord_emulator.texts_to(CITIZEN)[0]
        assert bridge.slack.sent == []
        assert not any(r.startswith("GET /attachments/") for r in discord_emulator.requests)


async def test_edited_dm_is_relayed_as_edit(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A citizen editing a DM sends the new text to the thread, marked as edited."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        first = await discord_emulator.dm(CITIZEN, "Pothole on Mian Street")
        await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
        await discord_emulator.edit(first, "Pothole on Main Street")
        await eventually(lambda: len(bridge.slack.threads[0].posts) == 2, what="the edit")
        assert bridge.slack.threads[0].posts[1].text == "edited: Pothole on Main Street"


async def test_guild_message_is_ignored(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A message in a guild channel opens no case and gets no answer."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        public = discord_emulator.message(user_id=CITIZEN, text="pothole!", channel_id="777", guild_id="888")
        await discord_emulator.dispatch("MESSAGE_CREATE", public)
        await open_case(bridge, discord_emulator)  # a later DM is handled: the guild message was not
        assert [message.channel_id for message in discord_emulator.sent] == [discord_emulator.dm_channel(CITIZEN)]


async def test_helpdesk_post_gets_invitation_and_nothing_is_stored(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A public post in the help-desk channel gets a reply inviting the person to DM; no case opens."""
    async with running(sqlite_store, clock, discord_emulator, helpdesk_channel=777) as bridge:
        public = discord_emulator.message(user_id=CITIZEN, text="pothole!", channel_id="777", guild_id="888")
        await discord_emulator.dispatch("MESSAGE_CREATE", public)
        await eventually(lambda: len(discord_emulator.sent) == 1, what="the invitation")
        [invitation] = discord_emulator.sent
        assert invitation.channel_id == "777"
        assert "direct message" in invitation.content
        assert str(invitation.payload["message_reference"]["message_id"]) == public["id"]
        assert invitation.allowed_mentions == {"parse": []}
        assert await sqlite_store.read(lambda tx: tx.active_case(Address(DISCORD, "777"))) is None
        assert bridge.slack.sent == []


async def test_menu_button_press_routes_the_case(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """When routing is unsure the citizen gets buttons; pressing one opens the thread there and answers the press."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(CITIZEN, "A pothole next to my bin")
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 1, what="the menu")
        [menu] = discord_emulator.sent_to(CITIZEN)
        assert menu.custom_ids == ["menu:roads", "menu:waste", "menu:other"]
        assert "1. Roads & Transport" in menu.content
        interaction = await discord_emulator.press(menu, "menu:waste", user_id=CITIZEN)
        await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
        assert bridge.slack.threads[0].channel == "C0WASTE"
        await eventually(lambda: len(discord_emulator.callbacks) == 1, what="the interaction answer")
        assert discord_emulator.callbacks == [{"id": interaction, "type": 6}]


async def test_duplicate_dispatch_is_processed_once(
    store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """The same MESSAGE_CREATE dispatched twice opens one case and posts once."""
    async with running(store, clock, discord_emulator) as bridge:
        first = await discord_emulator.dm(CITIZEN, "Pothole on Main Street")
        await discord_emulator.dispatch("MESSAGE_CREATE", first)
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 1, what="the ack")
        second = await discord_emulator.dm(CITIZEN, "It is deep")  # handled after the duplicate, in order
        await eventually(lambda: len(bridge.slack.sent) == 2, what="the follow-up")
        assert [post.text for post in bridge.slack.threads[0].posts] == ["Pothole on Main Street", "It is deep"]
        assert second["id"] != first["id"]


async def test_dispatch_replayed_after_resume_is_processed_once(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """After the gateway drops, discord.py RESUMEs and a message delivered again is still processed once."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        first = await discord_emulator.dm(CITIZEN, "Pothole on Main Street")
        await eventually(lambda: len(bridge.slack.threads) == 1, what="the thread")
        await discord_emulator.drop_connection(replay=(("MESSAGE_CREATE", first),))
        await eventually(lambda: len(discord_emulator.resumes) == 1, what="the RESUME")
        await discord_emulator.dm(CITIZEN, "It is deep")
        await eventually(lambda: len(bridge.slack.threads[0].posts) == 2, what="the follow-up")
        assert [post.text for post in bridge.slack.threads[0].posts] == ["Pothole on Main Street", "It is deep"]
        assert len(discord_emulator.identifies) == 1
        assert discord_emulator.connections[-1].startswith("/resume-gateway?")


async def test_closed_dms_fail_the_delivery_and_staff_are_told(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A 403 with code 50007 fails the reply for good, and staff read why in the thread."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator)
        discord_emulator.failures.append(cannot_message_user())
        await bridge.slack.reply(bridge.slack.threads[0], "We fixed it")
        await eventually(lambda: len(bridge.slack.threads[0].posts) == 2, what="the failure notice")
        notice = bridge.slack.threads[0].posts[1].text
        assert "Could not deliver" in notice
        assert "50007" in notice
        assert discord_emulator.texts_to(CITIZEN)[1:] == []


async def test_rate_limited_reply_is_delivered_once_after_waiting(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """A 429 with a short retry_after is waited out and the reply arrives exactly once."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await open_case(bridge, discord_emulator)
        discord_emulator.failures.append(rate_limited(0.05))
        await bridge.slack.reply(bridge.slack.threads[0], "We fixed it")
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 2, what="the reply")
        assert discord_emulator.texts_to(CITIZEN)[1].startswith("We fixed it")
        assert discord_emulator.send_attempts == 3  # the ack, the 429, the retry


async def test_long_rate_limit_surfaces_as_retry_after(discord_emulator: DiscordEmulator) -> None:
    """A 429 asking for longer than discord.py may wait becomes a transient DeliveryError carrying retry_after."""
    adapter, sink = adapter_for(discord_emulator), _NoEvents()
    await adapter.start(sink)
    try:
        await eventually(lambda: adapter.health() == "up", what="the gateway")
        discord_emulator.failures.append(rate_limited(90.0))
        with pytest.raises(DeliveryError) as raised:
            await adapter.send(_reply_to(discord_emulator, "Hello"))
        assert raised.value.retry_after == 90.0
        assert not raised.value.permanent
    finally:
        await adapter.stop()


async def test_retried_delivery_is_posted_once(discord_emulator: DiscordEmulator) -> None:
    """Sending the same delivery twice (a retry after a crash) posts one message: the nonce is enforced."""
    adapter = adapter_for(discord_emulator)
    await adapter.start(_NoEvents())
    try:
        await eventually(lambda: adapter.health() == "up", what="the gateway")
        first = await adapter.send(_reply_to(discord_emulator, "Hello"))
        again = await adapter.send(_reply_to(discord_emulator, "Hello"))
        assert first == again
        assert len(discord_emulator.sent) == 1
    finally:
        await adapter.stop()


async def test_help_command_is_answered(
    sqlite_store: Store, clock: FakeClock, discord_emulator: DiscordEmulator
) -> None:
    """``!help`` in a DM is a command: the help text comes back and no case opens."""
    async with running(sqlite_store, clock, discord_emulator) as bridge:
        await discord_emulator.dm(CITIZEN, "!help")
        await eventually(lambda: len(discord_emulator.sent_to(CITIZEN)) == 1, what="the help text")
        assert "Commands" in discord_emulator.texts_to(CITIZEN)[0]
        assert bridge.slack.sent == []


async def test_gateway_identifies_with_dm_intent_only(discord_emulator: DiscordEmulator) -> None:
    """The bot asks the gateway for DM messages only: no guild messages, no privileged message content."""
    adapter = adapter_for(discord_emulator)
    await adapter.start(_NoEvents())
    try:
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up", what="the gateway")
        [identify] = discord_emulator.identifies
        assert identify["intents"] == 1 << 12  # DIRECT_MESSAGES
        assert identify["token"] == BOT_TOKEN
    finally:
        await adapter.stop()
    assert adapter.health().startswith("down")


async def test_standby_process_sends_without_the_gateway(discord_emulator: DiscordEmulator) -> None:
    """Without the intake lease the adapter never connects the gateway, yet replies still go out."""
    adapter = adapter_for(discord_emulator)
    await adapter.start(_NoEvents())
    try:
        await eventually(lambda: adapter.health() == "up", what="the login")
        await adapter.send(_reply_to(discord_emulator, "Hello"))
        assert discord_emulator.texts_to(CITIZEN) == ["Hello"]
        assert discord_emulator.identifies == []
    finally:
        await adapter.stop()


async def test_leaving_the_intake_closes_the_gateway_and_keeps_sending(discord_emulator: DiscordEmulator) -> None:
    """``stop_intake`` (the lease moved to another process) leaves the gateway; sending keeps working."""
    adapter = adapter_for(discord_emulator)
    await adapter.start(_NoEvents())
    try:
        await adapter.start_intake()
        await discord_emulator.wait_connected()
        await adapter.stop_intake()
        await eventually(lambda: not discord_emulator.connected, what="the gateway to close")
        await adapter.send(_reply_to(discord_emulator, "Still here"))
        assert discord_emulator.texts_to(CITIZEN) == ["Still here"]
        assert len(discord_emulator.identifies) == 1
    finally:
        await adapter.stop()


class _NoEvents:
    """A sink for tests that only send."""

    async def accept(self, event: object) -> None:
        raise AssertionError(f"no event expected, got {event!r}")


def _reply_to(emulator: DiscordEmulator, text: str) -> Outgoing[CitizenReply]:
    chat = Address(DISCORD, emulator.dm_channel(CITIZEN))
    return Outgoing(target=chat, body=CitizenReply(ReplyKind.SYSTEM, text, "RB-0001"), idempotency_key="d42")
