"""Consultations from Slack end to end: ``/consult`` → modal → submission publishes; the results message updates.

Real slack-bolt and slack-sdk against the loopback Slack emulator (signed Events API requests, and one
Socket Mode envelope); the citizens are the fake Telegram of ``tests.bridge``, answering with buttons.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.slack import SlackAdapter
from bot.consultations.live_results import UPDATE_SPACING, ResultsPreparation
from bot.consultations.publishing import StaffConsultations
from bot.consultations.service import ConsultationService
from bot.due_jobs import DueJobRunner
from bot.events import CitizenCommandKind
from bot.model import TELEGRAM, Address, DeliveryState
from bot.privacy import cases_of_citizen, erase
from bot.storage.store import Store, Tx
from tests.backends import open_store
from tests.bridge import DIRECTORY, Bridge, build_bridge
from tests.bulk.helpers import all_deliveries
from tests.consultations.helpers import subscribe
from tests.emulators.slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, Message, SlackEmulator
from tests.fakes import FakeClock
from tests.waiting import eventually

#: slack-sdk and aiohttp read HTTP(S)_PROXY: loopback traffic must not go to a proxy.
pytestmark = pytest.mark.usefixtures("no_proxies")

CHANNELS = ("C0ROADS", "C0WASTE", "C0HOUSING", "C0GENERAL", "C0RANDOM")
CITIZENS = (111, 222, 333)


@dataclass
class World:
    """The bridge with the real Slack adapter (publishing through the consultation service) and emulated Slack."""

    bridge: Bridge
    slack: SlackEmulator
    service: ConsultationService
    events_url: str
    clock: FakeClock
    #: Open: the bridge's timers run due jobs (the background send); a test clears it to hold them.
    timers_open: asyncio.Event

    async def command(self, channel: str = "C0ROADS") -> tuple[int, str]:
        """Someone runs ``/consult`` in ``channel``."""
        return await self.slack.deliver(self.events_url, self.slack.slash_command(channel), form=True)

    async def submit(self, values: dict[str, dict[str, Any]]) -> tuple[int, str]:
        """Someone fills in the last opened modal with ``values`` and presses Send."""
        payload = self.slack.view_submission(self.slack.views[-1], values)
        answer = await self.slack.deliver(self.events_url, payload, interactive=True)
        self.bridge.worker.wake()
        return answer

    async def answer(self, user: int, choice: str) -> None:
        """A subscribed citizen answers on the (fake) citizen platform."""
        await self.bridge.telegram.choose(user=user, choice=choice)
        self.bridge.worker.wake()

    async def results_message(self, channel: str = "C0ROADS") -> Message:
        """The one results message the bridge posted in ``channel``."""
        await eventually(lambda: len(self.slack.roots(channel)) == 1, what="the results message")
        return self.slack.roots(channel)[0]

    async def idle_except_due_later(self) -> None:
        """Wait until everything due now was sent: what is left falls due later."""

        async def quiet() -> bool:
            due = await self.bridge.store.next_due_at()
            return due is None or due > self.clock.now

        self.bridge.worker.wake()
        await eventually(quiet, what="nothing due now")

    async def nothing_under_way(self) -> None:
        """Wait until every send a worker holds is out and recorded (an erasure from then on knows each post's id)."""

        async def recorded() -> bool:
            rows = await all_deliveries(self.bridge.store)
            return not any(d.state is DeliveryState.PENDING and d.attempts for d in rows)

        await eventually(recorded, what="every send under way recorded")

    def tick(self) -> None:
        """Time passes: the next edit of a results message falls due (``UPDATE_SPACING``)."""
        self.clock.advance(UPDATE_SPACING.total_seconds())
        self.bridge.worker.wake()

    async def shows(self, root: Message, text: str) -> Message:
        """Let the edit fall due, and wait until the results message (as edited) shows ``text``."""
        self.tick()

        def current() -> bool:
            found = self.slack.message(root.channel, root.ts)
            return found is not None and text in found.text

        await eventually(current, what=f"the results message showing {text!r}")
        found = self.slack.message(root.channel, root.ts)
        assert found is not None
        return found


def question(*, options: str = "Mill Lane\nHigh Street", settings: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """The modal's state for a consultation (block id → the element's state)."""
    return {
        "kind": {"type": "radio_buttons", "selected_option": {"value": "consultation"}},
        "text": {"type": "plain_text_input", "value": "Which street first?"},
        "options": {"type": "plain_text_input", "value": options},
        "settings": {"type": "checkboxes", "selected_options": [{"value": v} for v in settings]},
        "closes": {"type": "datepicker", "selected_date": None},
    }


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """The emulated workspace: the four department channels and one that is no department's."""
    async with SlackEmulator(channels=CHANNELS) as emulator:
        yield emulator


@pytest.fixture
async def sqlite_store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated SQLite store on the test's clock."""
    async with open_store("sqlite", tmp_path, clock=clock) as opened:
        yield opened


@asynccontextmanager
async def consult_world(
    store: Store, clock: FakeClock, slack: SlackEmulator, *, socket_mode: bool = False, api_timeout: int = 5
) -> AsyncIterator[World]:
    """Three citizens follow Roads; the bridge runs the Slack adapter on a loopback server, its worker running."""
    for user in CITIZENS:
        await subscribe(store, Address(TELEGRAM, str(user)), "roads")
    holder: list[Bridge] = []
    timers_open = asyncio.Event()
    timers_open.set()

    async def run_due() -> int:
        await timers_open.wait()
        return await holder[0].relay.run_due_jobs()

    async def next_due() -> datetime | None:
        return await store.read(lambda tx: tx.next_job_due_at())

    timers = DueJobRunner(run_due=run_due, next_due=next_due, clock=clock)
    service = ConsultationService(
        store=store,
        directory=DIRECTORY,
        on_queued=lambda: holder[0].worker.wake(),  # noqa: PLW0108  # built below
        on_scheduled=timers.wake,
    )
    adapter = SlackAdapter(
        bot_token=SecretStr(BOT_TOKEN),
        directory=DIRECTORY,
        api_url=slack.api_url,
        signing_secret=SecretStr(SIGNING_SECRET),
        app_token=SecretStr(APP_TOKEN) if socket_mode else None,
        timeout=api_timeout,
        consultations=StaffConsultations(service=service, directory=DIRECTORY),
    )
    app = web.Application()
    adapter.mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    preparation = ResultsPreparation(store=store, results=service.results)
    try:
        async with build_bridge(store, clock, department=[adapter], preparation=preparation) as bridge, bridge.worker:
            holder.append(bridge)
            async with timers:  # the running bridge's timers: they queue what the form publishes
                await adapter.start_intake()
                yield World(bridge, slack, service, url, clock, timers_open)
    finally:
        await runner.cleanup()


@pytest.fixture
async def world(sqlite_store: Store, clock: FakeClock, slack: SlackEmulator) -> AsyncIterator[World]:
    """The bridge over SQLite with Slack over the Events API."""
    async with consult_world(sqlite_store, clock, slack) as built:
        yield built


async def published(world: World, values: dict[str, dict[str, Any]] | None = None) -> Message:
    """Run ``/consult`` in Roads' channel, send the modal, and return the results message it posted."""
    await world.command()
    status, body = await world.submit(values or question())
    assert (status, body) == (200, "")
    return await world.results_message()


# --- the command and its modal --------------------------------------------------------------


async def test_consult_in_department_channel_opens_the_modal(world: World) -> None:
    """``/consult`` in a department's channel opens the modal for that department, with every field."""
    status, _ = await world.command("C0ROADS")
    assert status == 200
    [view] = world.slack.views
    assert view["callback_id"] == "consult_create"
    assert json.loads(view["private_metadata"])["department"] == "roads"
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == [
        "kind",
        "text",
        "options",
        "settings",
        "closes",
    ]
    assert view["blocks"][-1]["element"]["type"] == "datepicker"


async def test_consult_outside_department_channels_is_refused_to_the_caller_only(world: World) -> None:
    """In a channel that is no department's, the caller reads why (an ephemeral answer) and no modal opens."""
    status, body = await world.command("C0RANDOM")
    assert status == 200
    assert "department's channel" in body  # bolt answers a bare text: Slack shows it to the caller only
    assert world.slack.views == []


async def test_submission_publishes_to_subscribers_and_posts_the_results_message(world: World) -> None:
    """Send creates the consultation for Roads, every subscriber gets it, and one results message appears."""
    root = await published(world)
    [created] = await world.service.list()
    assert (created.department, created.options, created.created_by) == (
        "roads",
        ("Mill Lane", "High Street"),
        "slack:Grace Officer",
    )
    await eventually(lambda: all(world.bridge.telegram.replies(u) for u in CITIZENS), what="the broadcasts")
    assert "Which street first?" in root.text
    assert "Answers: 0 of 3 asked" in root.text


async def test_a_refused_submission_shows_the_problem_in_the_modal(world: World) -> None:
    """One option is no choice: the modal stays open with the error under Options, and nothing is sent."""
    await world.command()
    status, body = await world.submit(question(options="Only one"))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "two options" in answer["errors"]["options"]
    assert await world.service.list() == []


async def test_closing_day_from_the_datepicker_closes_at_the_end_of_it(world: World) -> None:
    """The datepicker's day is the last day to answer: answers close at the next midnight, office time."""
    values = question()
    day = (world.clock.now + timedelta(days=7)).date()
    values["closes"] = {"type": "datepicker", "selected_date": day.isoformat()}
    await published(world, values)
    [created] = await world.service.list()
    assert created.closes_at is not None
    assert created.closes_at.date() == day + timedelta(days=1)


# --- the results message -------------------------------------------------------------------


async def test_results_message_updates_as_citizens_answer(world: World) -> None:
    """Each answer shows in the same message: counts per option with their bars, and the total."""
    root = await published(world)
    [created] = await world.service.list()
    await world.answer(111, f"poll:{created.id}:1")
    await world.answer(222, f"poll:{created.id}:1")
    await world.answer(333, f"poll:{created.id}:2")
    shown = await world.shows(root, "Answers: 3 of 3 asked")
    assert "2 (67%) 1. Mill Lane" in shown.text
    assert "1 (33%) 2. High Street" in shown.text
    assert len(world.slack.roots("C0ROADS")) == 1


async def test_many_answers_while_an_update_is_sent_cause_one_more_update(world: World) -> None:
    """40 answers, 39 of them while Slack holds the first update: one more update follows, not 39."""
    late = range(1000, 1037)
    for user in late:
        await subscribe(world.bridge.store, Address(TELEGRAM, str(user)), "roads")
    root = await published(world)
    [created] = await world.service.list()
    gate = world.slack.hold("chat.update")
    await world.answer(111, f"poll:{created.id}:1")
    world.tick()
    await eventually(lambda: world.slack.called("chat.update") == 1, what="the first update, held")
    for user in (222, 333, *late):
        await world.answer(user, f"poll:{created.id}:2")
    gate.set()
    await world.shows(root, "Answers: 40 of 40 asked")
    assert world.slack.called("chat.update") == 2


async def test_free_text_answers_go_into_the_thread_without_names(world: World) -> None:
    """A free-text answer is posted in the results message's thread as its text alone."""
    root = await published(world, question(options="", settings=("free_text",)))
    [created] = await world.service.list()
    await world.bridge.telegram.command(user=111, command=CitizenCommandKind.ANSWER, argument="Fix the lights")
    world.bridge.worker.wake()
    await eventually(lambda: bool(world.slack.thread(root)), what="a free-text answer in the thread")
    [line] = world.slack.thread(root)
    assert line.text == "Fix the lights"
    assert created.free_text


async def test_free_text_answers_name_the_citizen_when_the_consultation_shows_who(world: World) -> None:
    """Created with "show who answered", each free-text answer in the thread names its citizen."""
    root = await published(world, question(options="", settings=("free_text", "show_who")))
    await world.bridge.telegram.command(user=111, command=CitizenCommandKind.ANSWER, argument="More buses")
    world.bridge.worker.wake()
    await eventually(lambda: bool(world.slack.thread(root)), what="a free-text answer in the thread")
    assert world.slack.thread(root)[0].text == "Ada Citizen: More buses"


async def test_closing_shows_on_the_results_message(world: World) -> None:
    """Closing the consultation (from anywhere) rewrites its results message as closed."""
    root = await published(world)
    [created] = await world.service.list()
    await world.service.close(created.id, actor="test")
    await world.shows(root, "(closed)")


# --- Socket Mode ----------------------------------------------------------------------------


async def test_consult_over_socket_mode_opens_the_modal(
    sqlite_store: Store, clock: FakeClock, slack: SlackEmulator
) -> None:
    """The same command arriving as a Socket Mode envelope is acknowledged and opens the modal."""
    async with consult_world(sqlite_store, clock, slack, socket_mode=True):
        await eventually(lambda: bool(slack.sockets), what="the Socket Mode connection")
        envelope = await slack.push(slack.slash_command("C0ROADS"), kind="slash_commands")
        await eventually(lambda: envelope in slack.acks, what="the envelope's acknowledgement")
        assert [v["callback_id"] for v in slack.views] == ["consult_create"]


async def test_erasing_a_citizen_erases_their_free_text_answer_in_the_thread(world: World) -> None:
    """``privacy erase`` of a citizen turns their free-text answer in the results thread into "[erased]"."""
    root = await published(world, question(options="", settings=("free_text",)))
    await world.bridge.telegram.command(user=111, command=CitizenCommandKind.ANSWER, argument="Fix the lights")
    await world.bridge.telegram.receive(user=111, text="My bin was not collected")  # a case: what erasure targets
    world.bridge.worker.wake()
    await eventually(lambda: bool(world.slack.thread(root)), what="a free-text answer in the thread")
    [line] = world.slack.thread(root)
    await world.nothing_under_way()

    async def work(tx: Tx) -> None:
        await erase(tx, await cases_of_citizen(tx, TELEGRAM, "111"), actor="cli:test")

    await world.bridge.store.atomic(work)
    world.tick()  # the erasure waits in the lane behind the update the answer caused

    def erased() -> bool:
        now = world.slack.message(line.channel, line.ts)
        return now is not None and "[erased]" in now.text and "Fix the lights" not in now.text

    await eventually(erased, what="the answer erased in Slack")


async def test_an_update_waits_until_the_spacing_after_the_last_post(world: World) -> None:
    """An answer right after the results message went out is shown no sooner than ``UPDATE_SPACING`` later."""
    root = await published(world)
    [created] = await world.service.list()
    await world.answer(111, f"poll:{created.id}:1")
    await world.idle_except_due_later()
    assert world.slack.called("chat.update") == 0
    await world.shows(root, "Answers: 1 of 3 asked")
