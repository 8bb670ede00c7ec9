"""The Slack adapter end to end: real slack-bolt and slack-sdk against the loopback Slack emulator.

The citizen side is the fake Telegram of ``tests.bridge``; the department side is
the real adapter, receiving signed Events API requests on an aiohttp server (or
Socket Mode envelopes) and calling the emulated Web API.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.slack import SlackAdapter
from bot.departments import Directory
from bot.events import StaffMessage
from bot.model import (
    SLACK,
    Address,
    CaseCard,
    CaseStatus,
    CitizenReply,
    DepartmentKey,
    FileData,
    Outgoing,
    Platform,
    PostKind,
    ReplyKind,
    ThreadPost,
)
from bot.ports import DeliveryError
from bot.saved_answers import SavedAnswers
from bot.storage.store import Store, Tx
from tests.backends import open_store
from tests.bridge import DIRECTORY, Bridge, build_bridge
from tests.emulators.slack import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    SERVER_ERROR,
    SIGNING_SECRET,
    Message,
    SlackEmulator,
    api_error,
    rate_limited,
)
from tests.fakes import FakeClock
from tests.learned_cli import routes_learned
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

CHANNELS = ("C0ROADS", "C0WASTE", "C0HOUSING", "C0GENERAL")
CITIZEN = 111
WRONG_SECRET = "not-the-signing-secret"  # noqa: S105  # what a forger would sign with


def texts_of(blocks: Any) -> str:
    """Every text in a Block Kit structure, joined: what a person would read on the card."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def controls(root: Message) -> dict[str, dict[str, Any]]:
    """The root card's interactive elements by action id."""
    blocks = root.blocks or []
    return {e["action_id"]: e for b in blocks if b.get("type") == "actions" for e in b["elements"]}


@dataclass
class World:
    """A bridge whose department side is the real Slack adapter, and the emulated Slack around it."""

    bridge: Bridge
    slack: SlackEmulator
    adapter: SlackAdapter
    events_url: str
    clock: FakeClock

    async def citizen(self, text: str, *, files: Iterable[FileData] = (), name: str = "Ada Citizen") -> None:
        """The citizen writes on the (fake) citizen platform."""
        await self.bridge.telegram.receive(user=CITIZEN, text=text, files=files, name=name)
        self.bridge.worker.wake()

    async def send(self, payload: dict[str, Any], **options: Any) -> tuple[int, str]:
        """Slack delivers a payload to the bridge's HTTP endpoint."""
        answer = await self.slack.deliver(self.events_url, payload, **options)
        self.bridge.worker.wake()
        return answer

    async def open_case(self, text: str = "My bin was not collected", channel: str = "C0WASTE") -> Message:
        """A citizen's first message, and the thread root it becomes."""
        await self.citizen(text)
        await eventually(lambda: len(self.slack.roots(channel)) == 1, what="the thread root")
        return self.slack.roots(channel)[0]

    async def idle(self) -> None:
        """Wait until the outbox has nothing pending: everything caused so far was delivered."""

        async def empty() -> bool:
            return (await self.bridge.store.outbox_stats()).depth == 0

        self.bridge.worker.wake()
        await eventually(empty, what="an empty outbox")

    def replies(self) -> list[CitizenReply]:
        """What the citizen was sent."""
        return self.bridge.telegram.replies(CITIZEN)

    async def reply_with(self, text: str) -> CitizenReply:
        """Wait for the citizen to be sent a reply containing ``text``."""
        await eventually(lambda: any(text in r.text for r in self.replies()), what=f"a citizen reply with {text!r}")
        return next(r for r in self.replies() if text in r.text)

    async def thread_line(self, root: Message, text: str) -> Message:
        """Wait for a bot post in the root's thread containing ``text``."""
        await eventually(lambda: any(text in m.text for m in self.slack.thread(root)), what=f"thread line {text!r}")
        return next(m for m in self.slack.thread(root) if text in m.text)


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The emulated Slack workspace with the four department channels."""
    async with SlackEmulator(channels=CHANNELS) as emulator:
        yield emulator


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated SQLite store (most tests need one backend; a few run on both via ``store``)."""
    async with open_store("sqlite", tmp_path, clock=clock) as opened:
        yield opened


@asynccontextmanager
async def slack_world(
    store: Store,
    clock: FakeClock,
    slack: SlackEmulator,
    *,
    socket_mode: bool = False,
    max_file_bytes: int = 1024 * 1024,
    signing_secret: str = SIGNING_SECRET,
    api_timeout: int = 5,
    answers: SavedAnswers | None = None,
    directory: Directory = DIRECTORY,
) -> AsyncIterator[World]:
    """The bridge with the real Slack adapter mounted on a loopback HTTP server, its worker running."""
    adapter = SlackAdapter(
        bot_token=SecretStr(BOT_TOKEN),
        directory=directory,
        api_url=slack.api_url,
        signing_secret=SecretStr(signing_secret),
        app_token=SecretStr(APP_TOKEN) if socket_mode else None,
        max_file_bytes=max_file_bytes,
        timeout=api_timeout,
    )
    app = web.Application()
    adapter.mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        async with (
            build_bridge(store, clock, department=[adapter], directory=directory, answers=answers) as bridge,
            bridge.worker,
        ):
            await adapter.start_intake()  # as the app does in the process holding the intake lease
            yield World(bridge, slack, adapter, url, clock)
    finally:
        await runner.cleanup()


@pytest.fixture
async def world(sqlite_store: Store, clock: FakeClock, slack: SlackEmulator) -> AsyncIterator[World]:
    """The bridge over SQLite with Slack over the Events API."""
    async with slack_world(sqlite_store, clock, slack) as built:
        yield built


# --- the thread root ---------------------------------------------------------------------


async def test_first_message_opens_thread_root_with_case_card(world: World) -> None:
    """The root names reference, department, platform, citizen and language, and quotes the first message."""
    root = await world.open_case("My bin was not collected")
    ack = await world.reply_with("Thank you")
    card = texts_of(root.blocks)
    assert re.fullmatch(r"[A-Z]{2,}-[0-9A-Z-]{4,}", ack.reference)
    assert ack.reference in card
    for expected in ("Waste &amp; Recycling", "telegram", "Ada Citizen", "en", "My bin was not collected"):
        assert expected in card
    assert "*Status:* open" in card


async def test_thread_root_offers_close_claim_and_transfer_menu(world: World) -> None:
    """The root's controls are Close, Claim and a Transfer… menu of the other departments."""
    root = await world.open_case()
    elements = controls(root)
    assert set(elements) == {"case_close", "case_claim", "case_transfer"}
    values = [option["value"] for option in elements["case_transfer"]["options"]]
    assert values == ["roads", "housing", "general"]


async def test_citizen_text_is_escaped_in_thread_root(world: World) -> None:
    """A citizen cannot ping the channel or forge a link: & < > arrive escaped."""
    root = await world.open_case("bin <!channel> & <http://evil.example|your bank>")
    card = texts_of(root.blocks)
    assert "bin &lt;!channel&gt; &amp; &lt;http://evil.example|your bank&gt;" in card
    assert "<!channel>" not in card + root.text
    assert "<http" not in card + root.text


async def test_later_citizen_message_is_thread_reply_attributed_to_citizen(world: World) -> None:
    """A second citizen message is a reply in the case's thread, named and escaped."""
    root = await world.open_case()
    await world.citizen("It's still there <@U0GRACE>")
    line = await world.thread_line(root, "still there")
    assert line.text == "*Ada Citizen:* It's still there &lt;@U0GRACE&gt;"


# --- staff replies -------------------------------------------------------------------------


async def test_staff_reply_reaches_citizen_decoded_and_signed(world: World) -> None:
    """Staff text is decoded (entities, mentions, links) and signed with the department's name."""
    root = await world.open_case()
    text = "Fixed &amp; done &lt;today&gt;, ask <@U0ALAN> or see <https://council.example/bins|our page>"
    status, _ = await world.send(world.slack.staff_message("C0WASTE", text, thread_ts=root.ts))
    assert status == 200
    reply = await world.reply_with("Fixed")
    assert reply.kind is ReplyKind.STAFF
    assert reply.text == "Fixed & done <today>, ask @Alan Clerk or see our page (https://council.example/bins)"
    assert reply.signature == "Waste & Recycling"


async def test_officer_first_name_signs_when_department_says_so(world: World) -> None:
    """Housing signs with the officer's first name, from users.info."""
    root = await world.open_case("My rent went up", channel="C0HOUSING")
    await world.send(world.slack.staff_message("C0HOUSING", "We will look into it", thread_ts=root.ts))
    reply = await world.reply_with("look into it")
    assert reply.signature == "Grace, Housing"


async def test_delivered_staff_reply_gets_a_check_mark(world: World) -> None:
    """Once the citizen has a staff reply, the Slack message gets a ✅ reaction."""
    root = await world.open_case()
    payload = world.slack.staff_message("C0WASTE", "On our way", thread_ts=root.ts)
    await world.send(payload)
    await eventually(lambda: len(world.slack.reactions) == 1, what="the receipt")
    assert world.slack.reactions == [("C0WASTE", payload["event"]["ts"], "white_check_mark")]


async def test_note_stays_internal(world: World) -> None:
    """A thread message starting with note: never reaches the citizen."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "  Note: crew is busy", thread_ts=root.ts))
    await world.send(world.slack.staff_message("C0WASTE", "We are on it", thread_ts=root.ts))
    await world.reply_with("We are on it")
    assert not any("crew" in r.text for r in world.replies())


async def test_failed_delivery_to_citizen_is_reported_in_thread(world: World) -> None:
    """When the citizen cannot be reached, staff read why in the thread."""
    root = await world.open_case()
    await world.idle()
    world.bridge.telegram.fail_next(DeliveryError("the citizen blocked the bot", permanent=True))
    await world.send(world.slack.staff_message("C0WASTE", "Hello?", thread_ts=root.ts))
    line = await world.thread_line(root, "Could not deliver")
    assert "the citizen blocked the bot" in line.text


async def test_edit_of_sent_reply_tells_staff_the_citizen_has_the_original(world: World) -> None:
    """Editing a staff reply already sent makes the bridge say so in the thread."""
    root = await world.open_case()
    payload = world.slack.staff_message("C0WASTE", "Pickup on Monday", thread_ts=root.ts)
    await world.send(payload)
    await world.reply_with("Pickup on Monday")
    await world.send(world.slack.staff_edit("C0WASTE", payload["event"]["ts"], "Pickup on Tuesday"))
    await world.thread_line(root, "already has the original")
    assert not any("Tuesday" in r.text for r in world.replies())


async def test_deletion_of_sent_reply_tells_staff(world: World) -> None:
    """Deleting a staff reply already sent makes the bridge say the citizen still has it."""
    root = await world.open_case()
    payload = world.slack.staff_message("C0WASTE", "Pickup on Monday", thread_ts=root.ts)
    await world.send(payload)
    await world.reply_with("Pickup on Monday")
    await world.send(world.slack.staff_delete("C0WASTE", payload["event"]["ts"]))
    await world.thread_line(root, "already has the original")


# --- staff actions ---------------------------------------------------------------------------


async def test_close_button_updates_root_and_tells_citizen(world: World) -> None:
    """Close marks the root closed (keeping the first message), notes it in the thread, tells the citizen."""
    root = await world.open_case("My bin was not collected")
    status, _ = await world.send(world.slack.button(root, "case_close"), interactive=True)
    assert status == 200
    await world.reply_with("has been closed")
    await world.thread_line(root, "Case closed by Grace Officer")
    await eventually(lambda: bool(world.slack.updates), what="the root update")
    card = texts_of(world.slack.updates[-1].blocks)
    assert "*Status:* closed" in card
    assert "My bin was not collected" in card
    assert set(controls(world.slack.updates[-1])) == {"case_reopen"}


async def test_claim_button_shows_who_handles_the_case(world: World) -> None:
    """Claim puts the officer's name on the root and tells the citizen who handles it."""
    root = await world.open_case()
    await world.send(world.slack.button(root, "case_claim"), interactive=True)
    await world.reply_with("An officer of Waste & Recycling is now handling")  # waste does not sign with names
    await eventually(lambda: bool(world.slack.updates), what="the root update")
    assert "*Handled by:* Grace Officer" in texts_of(world.slack.updates[-1].blocks)


async def test_transfer_menu_moves_case_to_another_departments_channel(world: World) -> None:
    """Choosing a department in Transfer… opens the case in that channel and tells the citizen."""
    root = await world.open_case()
    await world.send(world.slack.button(root, "case_transfer", selected="roads"), interactive=True)
    await world.reply_with("passed to Roads & Transport")
    await eventually(lambda: len(world.slack.roots("C0ROADS")) == 1, what="the new root")
    assert "My bin was not collected" in texts_of(world.slack.roots("C0ROADS")[0].blocks)
    await world.thread_line(root, "transferred to Roads &amp; Transport by Grace Officer")


async def test_transferred_root_says_where_the_case_went_and_offers_no_actions(world: World) -> None:
    """After a transfer the old root names the new department and its buttons are gone."""
    root = await world.open_case()
    await world.send(world.slack.button(root, "case_transfer", selected="roads"), interactive=True)
    await world.reply_with("passed to Roads & Transport")
    await eventually(
        lambda: any("Transferred to Roads" in texts_of(u.blocks) for u in world.slack.updates), what="the old root"
    )
    old = next(u for u in world.slack.updates if "Transferred to Roads" in texts_of(u.blocks))
    assert old.ts == root.ts
    assert not any(block.get("block_id") == "case_actions" for block in old.blocks or [])


async def test_bang_close_closes_the_case_and_is_not_relayed(world: World) -> None:
    """!close in the thread closes the case; the command itself never reaches the citizen."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "!close", thread_ts=root.ts))
    await world.reply_with("has been closed")
    await world.idle()
    assert not any("!close" in r.text for r in world.replies())
    assert "*Status:* closed" in texts_of(world.slack.updates[-1].blocks)


async def test_bang_transfer_names_the_department(world: World) -> None:
    """!transfer Roads &amp; Transport (as Slack sends it) moves the case to Roads."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "!transfer Roads &amp; Transport", thread_ts=root.ts))
    await world.reply_with("passed to Roads & Transport")
    await eventually(lambda: len(world.slack.roots("C0ROADS")) == 1, what="the new root")


async def test_bang_transfer_to_unknown_department_lists_the_known_ones(world: World) -> None:
    """!transfer to a department that does not exist explains itself in the thread."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "!transfer parks", thread_ts=root.ts))
    line = await world.thread_line(root, "Cannot transfer")
    assert "roads, waste, housing, general" in line.text


async def test_bang_reopen_reopens_a_closed_case(world: World) -> None:
    """!reopen after !close opens the case again, on the root and for the citizen."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "!close", thread_ts=root.ts))
    await world.reply_with("has been closed")
    await world.send(world.slack.staff_message("C0WASTE", "!reopen", thread_ts=root.ts))
    await world.reply_with("has been reopened")
    await world.idle()
    assert "*Status:* open" in texts_of(world.slack.updates[-1].blocks)


async def test_bang_claim_claims_the_case(world: World) -> None:
    """!claim does what the Claim button does."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "!claim", thread_ts=root.ts, user="U0ALAN"))
    await world.reply_with("An officer of Waste & Recycling is now handling")


async def test_action_in_another_departments_channel_is_refused(world: World) -> None:
    """A command naming a case's thread from another department's channel finds no case."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0ROADS", "!close", thread_ts=root.ts))
    forged = world.slack.button(root, "case_close")
    forged["container"]["channel_id"] = "C0ROADS"
    forged["channel"]["id"] = "C0ROADS"
    await world.send(forged, interactive=True)
    await world.idle()
    assert not world.slack.updates
    assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


# --- what is ignored, refused or retried -------------------------------------------------------


async def test_retried_event_changes_nothing(world: World) -> None:
    """The same event delivered again with X-Slack-Retry-Num reaches the citizen once."""
    root = await world.open_case()
    payload = world.slack.staff_message("C0WASTE", "Once only", thread_ts=root.ts)
    assert (await world.send(payload))[0] == 200
    assert (await world.send(payload, retry_num=1))[0] == 200
    await world.idle()
    assert sum("Once only" in r.text for r in world.replies()) == 1


async def test_same_message_under_two_event_ids_is_relayed_once(world: World) -> None:
    """Slack delivering one message twice under different event ids reaches the citizen once."""
    root = await world.open_case()
    payload = world.slack.staff_message("C0WASTE", "Only once please", thread_ts=root.ts)
    again = {**payload, "event_id": "Ev99999999"}
    assert (await world.send(payload))[0] == 200
    assert (await world.send(again))[0] == 200
    await world.idle()
    assert sum("Only once please" in r.text for r in world.replies()) == 1


async def test_same_edit_under_two_event_ids_is_noted_once(world: World) -> None:
    """One edit of a sent reply, delivered under two event ids, gets one line in the thread."""
    root = await world.open_case()
    reply = world.slack.staff_message("C0WASTE", "Collected on Tuesday", thread_ts=root.ts)
    await world.send(reply)
    await world.reply_with("Collected on Tuesday")
    edit = world.slack.staff_edit("C0WASTE", reply["event"]["ts"], "Collected on Wednesday")
    await world.send(edit)
    await world.send({**edit, "event_id": "Ev99999998"})
    await world.idle()
    await world.thread_line(root, "already has the original")
    assert sum("already has the original" in m.text for m in world.slack.thread(root)) == 1


async def test_bad_signature_is_refused_with_401(world: World) -> None:
    """A request signed with the wrong secret is refused and changes nothing."""
    root = await world.open_case()
    status, _ = await world.send(world.slack.staff_message("C0WASTE", "Hi", thread_ts=root.ts), secret=WRONG_SECRET)
    assert status == 401
    await world.idle()
    assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


async def test_forged_reply_signed_with_empty_key_is_refused(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """Even if an empty signing secret got past the settings, a reply signed with the empty key never reaches anyone."""
    async with slack_world(sqlite_store, clock, slack, signing_secret="") as world:
        root = await world.open_case()
        forged = world.slack.staff_message("C0WASTE", "Send your bank details", thread_ts=root.ts)
        status, _ = await world.send(forged, secret="")
        assert status == 401
        await world.idle()
        assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


async def test_missing_signature_is_refused_with_401(world: World) -> None:
    """An unsigned request is refused."""
    status, _ = await world.send({"type": "url_verification", "challenge": "x"}, secret=None)
    assert status == 401


async def test_stale_signature_is_refused_with_401(world: World) -> None:
    """A correctly signed request from more than five minutes ago is refused."""
    stale = int(time.time()) - 6 * 60
    status, _ = await world.send({"type": "url_verification", "challenge": "x"}, timestamp=stale)
    assert status == 401


async def test_unparseable_body_with_bad_signature_is_refused_before_parsing(world: World) -> None:
    """Garbage with a bad signature gets 401, not a parse error."""
    status, _ = await world.send({}, raw=b"\xff{{not json", secret=WRONG_SECRET)
    assert status == 401


async def test_signed_garbage_is_answered_400(world: World) -> None:
    """A correctly signed body that is no Slack payload is refused, not a crash."""
    status, _ = await world.send({}, raw=b"{not json")
    assert status == 400


async def test_url_verification_is_answered(world: World) -> None:
    """Slack's URL check gets its challenge back."""
    status, body = await world.send(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9", "type": "url_verification"}
    )
    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9" in body


async def test_bot_messages_are_not_relayed(world: World) -> None:
    """Messages of other bots and our own never reach the citizen."""
    root = await world.open_case()
    await world.send(world.slack.staff_message("C0WASTE", "beep", thread_ts=root.ts, user="U0OTHER", bot_id="B0X"))
    await world.send(world.slack.staff_message("C0WASTE", "boop", thread_ts=root.ts, subtype="bot_message"))
    await world.send(world.slack.staff_message("C0WASTE", "me", thread_ts=root.ts, user=BOT_USER, bot_id=BOT_ID))
    await world.idle()
    assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


async def test_joins_and_topic_changes_are_ignored(world: World) -> None:
    """Message subtypes that are not a person's words are not relayed."""
    root = await world.open_case()
    for subtype in ("channel_join", "channel_topic", "channel_purpose"):
        await world.send(world.slack.staff_message("C0WASTE", f"x {subtype}", thread_ts=root.ts, subtype=subtype))
    await world.idle()
    assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


async def test_messages_outside_case_threads_are_ignored(world: World) -> None:
    """Top-level messages, unknown threads and unlisted channels reach nobody."""
    root = await world.open_case()
    assert (await world.send(world.slack.staff_message("C0WASTE", "lunch?", thread_ts=None)))[0] == 200
    assert (await world.send(world.slack.staff_message("C0WASTE", "hm", thread_ts="1600000000.000001")))[0] == 200
    assert (await world.send(world.slack.staff_message("C0RANDOM", "hi", thread_ts=root.ts)))[0] == 200
    await world.idle()
    assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


async def test_rate_limited_post_waits_for_retry_after_and_is_delivered_once(world: World) -> None:
    """A 429 reschedules the post by Retry-After; after that it is posted exactly once."""
    world.slack.fail_next("chat.postMessage", rate_limited(retry_after=7))
    await world.citizen("My bin was not collected")
    store = world.bridge.store
    expected = world.clock.now + timedelta(seconds=7)
    await eventually(lambda: _due_at(store, expected), what="the retry scheduled by Retry-After")
    assert world.slack.roots() == []
    world.clock.advance(7)
    world.bridge.worker.wake()
    await eventually(lambda: len(world.slack.roots("C0WASTE")) == 1, what="the root after the wait")
    await world.idle()
    assert len(world.slack.roots()) == 1
    assert world.slack.called("chat.postMessage") == 2


async def _due_at(store: Store, expected: datetime) -> bool:
    return bool(await store.next_due_at() == expected)


async def test_server_error_is_retried_until_posted(world: World) -> None:
    """A 500 from Slack is transient: the post goes out on the next attempt."""
    world.slack.fail_next("chat.postMessage", SERVER_ERROR)
    root = await world.open_case()
    assert root.channel == "C0WASTE"
    assert world.slack.called("chat.postMessage") == 2


@pytest.mark.parametrize("code", ["channel_not_found", "is_archived", "not_in_channel"])
async def test_hopeless_channel_errors_are_permanent(world: World, code: str) -> None:
    """Slack refusing the channel itself is a permanent delivery failure."""
    world.slack.fail_next("chat.postMessage", api_error(code))
    post = ThreadPost(PostKind.SYSTEM, _card(), "hello", "bridge")
    with pytest.raises(DeliveryError) as raised:
        await world.adapter.send(Outgoing(Address(SLACK, "C0WASTE", "1700000000.000001"), post))
    assert raised.value.permanent
    assert code in raised.value.reason


async def test_rate_limit_becomes_retry_after(world: World) -> None:
    """A 429 surfaces as a transient DeliveryError carrying Retry-After."""
    world.slack.fail_next("chat.postMessage", rate_limited(retry_after=30))
    post = ThreadPost(PostKind.SYSTEM, _card(), "hello", "bridge")
    with pytest.raises(DeliveryError) as raised:
        await world.adapter.send(Outgoing(Address(SLACK, "C0WASTE", "1700000000.000001"), post))
    assert (raised.value.permanent, raised.value.retry_after) == (False, 30.0)


def _card() -> CaseCard:
    return CaseCard(
        "CB-TEST1", DepartmentKey("waste"), "Waste", Platform("telegram"), "Ada", "en", CaseStatus.OPEN, None
    )


# --- files -------------------------------------------------------------------------------------


async def test_staff_file_reaches_citizen(world: World) -> None:
    """A file staff attach in the thread is downloaded with the bot token and sent to the citizen."""
    root = await world.open_case()
    hosted = world.slack.host_file("form.pdf", b"%PDF-1.4 form", "application/pdf")
    await world.send(world.slack.staff_message("C0WASTE", "Please fill this in", thread_ts=root.ts, files=[hosted]))
    await world.reply_with("Please fill this in")
    sent = next(o for o in world.bridge.telegram.sent if isinstance(o.body, CitizenReply) and o.files)
    assert sent.files == (FileData("form.pdf", "application/pdf", b"%PDF-1.4 form"),)


async def test_oversized_staff_file_is_not_relayed_and_staff_are_told(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """A staff file over the size limit stays in Slack; the thread says so; the text still goes."""
    async with slack_world(sqlite_store, clock, slack, max_file_bytes=10) as world:
        root = await world.open_case()
        hosted = world.slack.host_file("big.bin", b"x" * 11)
        await world.send(world.slack.staff_message("C0WASTE", "Here it is", thread_ts=root.ts, files=[hosted]))
        await world.reply_with("Here it is")
        await world.thread_line(root, "too large to pass on")
        assert world.slack.downloads == []


async def test_message_with_only_an_oversized_file_sends_the_citizen_nothing(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """A file too large, sent without words, leaves the citizen without an empty signed message."""
    async with slack_world(sqlite_store, clock, slack, max_file_bytes=10) as world:
        root = await world.open_case()
        hosted = world.slack.host_file("big.bin", b"x" * 11)
        await world.send(world.slack.staff_message("C0WASTE", "", thread_ts=root.ts, files=[hosted]))
        await world.thread_line(root, "too large to pass on")
        await world.idle()
        assert [r.kind for r in world.replies()] == [ReplyKind.ACK]


async def test_citizen_file_is_uploaded_into_the_thread(world: World) -> None:
    """A citizen's photo appears in the case's thread through files_upload_v2."""
    root = await world.open_case()
    await world.citizen("Here is a photo", files=[FileData("bin.jpg", "image/jpeg", b"\xff\xd8jpeg")])
    await eventually(lambda: bool(world.slack.uploads), what="the upload")
    [upload] = world.slack.uploads
    assert (upload.channel, upload.thread_ts, upload.filename, upload.data) == (
        "C0WASTE",
        root.ts,
        "bin.jpg",
        b"\xff\xd8jpeg",
    )
    await world.thread_line(root, "Here is a photo")


# --- both storage backends ---------------------------------------------------------------------


async def test_reply_round_trip_on_each_backend(store: Store, clock: FakeClock, slack: SlackEmulator) -> None:
    """Citizen → thread → staff reply → citizen works on SQLite and PostgreSQL alike."""
    async with slack_world(store, clock, slack) as world:
        root = await world.open_case()
        await world.send(world.slack.staff_message("C0WASTE", "Collected today", thread_ts=root.ts))
        reply = await world.reply_with("Collected today")
        assert reply.signature == "Waste & Recycling"


async def test_retried_button_press_changes_nothing_on_each_backend(
    store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """A button press delivered twice closes the case once."""
    async with slack_world(store, clock, slack) as world:
        root = await world.open_case()
        press = world.slack.button(root, "case_close")
        await world.send(press, interactive=True)
        await world.send(press, interactive=True, retry_num=1)
        await world.idle()
        assert sum("has been closed" in r.text for r in world.replies()) == 1
        assert not any("already closed" in m.text for m in world.slack.thread(root))


# --- Socket Mode -------------------------------------------------------------------------------


async def _stored_staff_message(store: Store, thread: Address, text: str) -> bool:
    async def look(tx: Tx) -> bool:
        case = await tx.case_by_thread(thread)
        return case is not None and any(m.text == text for m in await tx.messages(case.id))

    return await store.read(look)


async def test_socket_mode_event_is_stored_then_acknowledged(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """Over Socket Mode a staff reply is stored before the envelope is acked, then reaches the citizen."""
    async with slack_world(sqlite_store, clock, slack, socket_mode=True) as world:
        await eventually(lambda: world.adapter.health() == "up", what="the Socket Mode connection")
        root = await world.open_case()
        payload = world.slack.staff_message("C0WASTE", "Hello over the socket", thread_ts=root.ts)
        envelope = await world.slack.push(payload)
        await eventually(lambda: envelope in world.slack.acks, what="the ack")
        assert await _stored_staff_message(sqlite_store, Address(SLACK, "C0WASTE", root.ts), "Hello over the socket")
        world.bridge.worker.wake()
        await world.reply_with("Hello over the socket")


async def test_socket_mode_button_press_is_acknowledged_and_acted_on(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """A Close button over Socket Mode is acked and closes the case."""
    async with slack_world(sqlite_store, clock, slack, socket_mode=True) as world:
        await eventually(lambda: world.adapter.health() == "up", what="the Socket Mode connection")
        root = await world.open_case()
        envelope = await world.slack.push(world.slack.button(root, "case_close"), kind="interactive")
        await eventually(lambda: envelope in world.slack.acks, what="the ack")
        world.bridge.worker.wake()
        await world.reply_with("has been closed")


async def test_socket_mode_connects_only_in_the_process_running_the_intake(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """start() only prepares sending; start_intake() opens the socket and stop_intake() closes it."""
    adapter = SlackAdapter(
        bot_token=SecretStr(BOT_TOKEN), directory=DIRECTORY, api_url=slack.api_url, app_token=SecretStr(APP_TOKEN)
    )
    async with build_bridge(sqlite_store, clock, department=[adapter]):
        assert slack.called("apps.connections.open") == 0
        await adapter.start_intake()
        await eventually(lambda: adapter.health() == "up" and bool(slack.sockets), what="the socket")
        await adapter.stop_intake()
        await eventually(lambda: not slack.sockets, what="the socket to close")
        assert adapter.health() == "up"


async def test_event_is_not_acknowledged_when_it_cannot_be_stored(world: World) -> None:
    """If the relay cannot store an event, Slack gets an error and will redeliver it."""

    class Broken:
        async def accept(self, event: Any) -> None:
            raise RuntimeError("database is down")

    root = await world.open_case()
    world.adapter._sink = Broken()
    status, _ = await world.send(world.slack.staff_message("C0WASTE", "Hello", thread_ts=root.ts))
    assert status == 500


async def test_adapter_reports_staff_message_with_source_id(world: World) -> None:
    """The Slack ts of a staff reply is its source id, so receipts and edits find it."""
    seen: list[StaffMessage] = []
    relay = world.bridge.relay

    class Spy:
        async def accept(self, event: Any) -> None:
            if isinstance(event, StaffMessage):
                seen.append(event)
            await relay.accept(event)

    world.adapter._sink = Spy()
    root = await world.open_case()
    payload = world.slack.staff_message("C0WASTE", "Noted", thread_ts=root.ts)
    await world.send(payload)
    assert [(e.source_id, e.author_name, e.thread) for e in seen] == [
        (payload["event"]["ts"], "Grace Officer", Address(SLACK, "C0WASTE", root.ts))
    ]


async def test_transfer_in_slack_shows_up_in_routes_learned(world: World, tmp_path: Path) -> None:
    """A case staff move with Transfer… in Slack is listed by ``routes learned`` under its new department."""
    root = await world.open_case("My bin was not collected")
    await world.send(world.slack.button(root, "case_transfer", selected="roads"), interactive=True)
    await world.reply_with("passed to Roads & Transport")
    shown = await routes_learned(world.bridge.store, tmp_path)
    assert "transfer roads" in " ".join(shown.split())
    assert "My bin was not collected" in shown
    assert "- key: roads" in shown
