"""Publishing from Slack when the audience is large or Slack is slow: answered at once, sent once, posted once.

The Slack world of ``tests.e2e.test_slack_consult`` (real slack-bolt and slack-sdk against the emulator, the
bridge's timers running): its ``timers_open`` holds the running bridge's background send where a test says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.events import CitizenCommandKind
from bot.storage.store import Store
from tests.backends import open_store
from tests.e2e.test_slack_consult import CHANNELS, CITIZENS, World, consult_world, question
from tests.emulators.slack import SlackEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The emulated workspace: the four department channels and one that is no department's."""
    async with SlackEmulator(channels=CHANNELS) as emulator:
        yield emulator


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated SQLite store on the test's clock."""
    async with open_store("sqlite", tmp_path, clock=clock) as opened:
        yield opened


@pytest.fixture
async def world(store: Store, clock: FakeClock, slack: SlackEmulator) -> AsyncIterator[World]:
    """The bridge with Slack over the Events API; three citizens follow Roads."""
    async with consult_world(store, clock, slack) as built:
        yield built


def announcement(text: str = "Mill Lane is closed on Monday.") -> dict[str, dict[str, Any]]:
    """The modal's state for an announcement."""
    values = question(options="")
    values["kind"] = {"type": "radio_buttons", "selected_option": {"value": "announcement"}}
    values["text"] = {"type": "plain_text_input", "value": text}
    return values


async def test_the_form_is_answered_before_the_send_is_queued(world: World) -> None:
    """Slack has its answer to Send while no subscriber is queued yet; the running bridge queues them afterwards."""
    world.timers_open.clear()  # the bridge's timers are busy: the send cannot advance until they run
    await world.command()
    status, body = await world.submit(question())
    assert (status, body) == (200, "")  # the modal closes
    [created] = await world.service.list()
    assert (created.sending, created.recipients) == (True, 0)
    world.timers_open.set()
    world.bridge.worker.wake()
    await eventually(lambda: all(world.bridge.telegram.replies(u) for u in CITIZENS), what="the broadcasts")
    root = await world.results_message()
    assert "Answers: 0 of 3 asked" in root.text
    [sent] = await world.service.list()
    assert (sent.sending, sent.recipients) == (False, 3)


async def test_an_announcement_from_slack_is_confirmed_in_the_channel(world: World) -> None:
    """Once an announcement from the form is queued for every follower, the channel reads how many chats it went to."""
    await world.command()
    assert await world.submit(announcement()) == (200, "")

    def confirmed() -> bool:
        return any("was sent to 3 chats" in m.text for m in world.slack.roots("C0ROADS"))

    await eventually(confirmed, what="the confirmation in the department's channel")
    [line] = world.slack.roots("C0ROADS")
    [created] = await world.service.list()
    assert line.text == f"Announcement #{created.id} was sent to 3 chats (by slack:Grace Officer)."


async def test_a_results_message_whose_answer_timed_out_is_not_posted_twice(
    store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """Slack posts the results message but answers too late; the retry finds it instead of posting a second."""
    async with consult_world(store, clock, slack, api_timeout=1) as world:
        answer = slack.hold("chat.postMessage")
        await world.command()
        assert await world.submit(question()) == (200, "")

        def retried() -> bool:
            return slack.called("conversations.history") >= 1 or slack.called("chat.postMessage") >= 2  # a second try

        await eventually(retried, what="the post's second try")
        answer.set()
        root = await world.results_message()
        [created] = await world.service.list()
        await world.answer(111, f"poll:{created.id}:1")
        await world.shows(root, "Answers: 1 of 3 asked")
        assert len(slack.roots("C0ROADS")) == 1
        assert slack.called("chat.postMessage") == 1


async def test_a_changed_free_text_answer_replaces_its_earlier_line(world: World) -> None:
    """A citizen who changes their free-text answer: the earlier line says so (its text gone), the new one follows."""
    await world.command()
    assert await world.submit(question(options="", settings=("free_text",))) == (200, "")
    root = await world.results_message()
    await world.bridge.telegram.command(user=111, command=CitizenCommandKind.ANSWER, argument="Fix the lights")
    world.bridge.worker.wake()
    await eventually(lambda: bool(world.slack.thread(root)), what="the first answer in the thread")
    [first] = world.slack.thread(root)
    await world.bridge.telegram.command(user=111, command=CitizenCommandKind.ANSWER, argument="More buses")
    world.tick()  # the edit waits in the lane behind the results update the first answer caused
    await eventually(lambda: len(world.slack.thread(root)) == 2, what="the new answer in the thread")

    def changed() -> bool:
        now = world.slack.message(first.channel, first.ts)
        return now is not None and "answer changed" in now.text and "Fix the lights" not in now.text

    await eventually(changed, what="the earlier line edited")
    assert world.slack.thread(root)[-1].text == "More buses"
