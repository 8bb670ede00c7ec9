"""The ``events`` command: ``civic-bridge events list`` shows set-aside inbound events, ``events retry ID`` retries one.

An event is set aside when the relay failed to take it in several times in a row
(see ``bot.set_aside``). The list shows which event, when and the error's class,
never its text or names. ``retry`` takes it in again once the cause is fixed
(the running bridge's delivery worker then sends what it caused).
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

from bot.live_routing import directory_from
from bot.relay import Relay
from bot.startup import choose_routing
from bot.storage.store import Store, Tx
from config.settings import load_settings
from routing.router import build_router

if TYPE_CHECKING:
    import argparse

    from bot.storage.set_aside import SetAside


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``events list`` and ``events retry ID``; each sets ``func(args) -> exit code``."""
    events = subparsers.add_parser("events", help="inbound events set aside after failing again and again")
    commands = events.add_subparsers(dest="events_command", metavar="{list,retry}", required=True)
    listing = commands.add_parser("list", help="list set-aside events (no message text is shown)")
    listing.set_defaults(func=cmd_list)
    retry = commands.add_parser("retry", help="take a set-aside event in again, once its cause is fixed")
    retry.add_argument("id", type=int, metavar="ID", help="the id `events list` shows")
    retry.set_defaults(func=cmd_retry)


def format_events(events: list[SetAside]) -> str:
    """The list as an admin reads it: one line per event, no text or names."""
    if not events:
        return "no events are set aside"
    lines = [f"{'ID':>5}  {'SET ASIDE (UTC)':19}  {'PLATFORM':9}  {'KIND':15}  {'TRIES':>5}  {'ERROR':20}  EVENT ID"]
    lines.extend(
        f"{e.id:>5}  {e.set_aside_at:%Y-%m-%d %H:%M:%S}  {e.platform:9}  {e.kind:15}  {e.tries:>5}  {e.error:20}  "
        f"{e.event_id}"
        for e in events
    )
    return "\n".join(lines)


async def list_events(store: Store) -> str:
    """The set-aside list, formatted."""

    async def read(tx: Tx) -> list[SetAside]:
        return await tx.set_aside_events()

    return format_events(await store.read(read))


async def retry_event(relay: Relay, set_aside_id: int) -> tuple[int, str]:
    """Retry one set-aside event: exit code and the line to print."""
    try:
        found = await relay.retry_set_aside(set_aside_id)
    except Exception as error:  # noqa: BLE001  # the admin reads why; the event stays set aside
        return 1, f"event {set_aside_id} failed again ({type(error).__name__}); it stays set aside"
    if not found:
        return 1, f"no set-aside event {set_aside_id} (see `civic-bridge events list`)"
    return 0, f"event {set_aside_id} taken in; the running bridge delivers what it caused"


def cmd_list(_args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Print the set-aside events."""

    async def run() -> str:
        store = Store.open(load_settings().database_url)
        try:
            return await list_events(store)
        finally:
            await store.close()

    print(asyncio.run(run()), file=stdout or sys.stdout)  # the command's output
    return 0


def cmd_retry(args: argparse.Namespace, *, stdout: TextIO | None = None) -> int:
    """Retry one set-aside event with the configured routing."""
    settings = load_settings()
    routing = choose_routing(settings)

    async def run() -> tuple[int, str]:
        store = Store.open(settings.database_url)
        try:
            relay = Relay(store=store, directory=directory_from(routing.config), router=build_router(routing.config))
            return await retry_event(relay, int(args.id))
        finally:
            await store.close()

    code, line = asyncio.run(run())
    print(line, file=stdout or sys.stdout)  # the command's output
    return code
