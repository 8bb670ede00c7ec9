"""One worker process of measurement 6: the real delivery worker draining a shared PostgreSQL outbox.

Usage: ``python -m bench.outbox_worker DATABASE_URL OUT.json``. It prints ``ready``,
waits for a line on stdin, drains until the outbox is empty, and writes what it
sent (delivery id, lane, position in the lane, monotonic time) to OUT.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

from bench.common import make_router, routing_config, slack_directory
from bot.delivery import DeliveryWorker
from bot.model import SLACK, Outgoing, Platform, Sent, ThreadPost
from bot.ports import Channels, InboundSink
from bot.relay import Relay
from bot.storage.store import Store

#: Each prefilled delivery's text says where it stands in its lane.
POSITION = re.compile(r"lane (\d+) seq (\d+)")
SEND_SECONDS = 0.005


class RecordingSlack:
    """Answers every send after a short pause (a network round trip) and notes what it sent, and when."""

    def __init__(self) -> None:
        self.sends: list[tuple[str, int, int, int]] = []

    @property
    def platform(self) -> Platform:
        """Slack."""
        return SLACK

    def health(self) -> str:
        """Always up."""
        return "up"

    async def start(self, sink: InboundSink) -> None:
        """Nothing arrives from this side."""

    async def stop(self) -> None:
        """Nothing to close."""

    async def send(self, out: Outgoing[ThreadPost]) -> Sent:
        """Pause, then record the send."""
        await asyncio.sleep(SEND_SECONDS)
        found = POSITION.search(out.body.text)
        assert found is not None  # every prefilled row has its position
        self.sends.append((out.idempotency_key, int(found.group(1)), int(found.group(2)), time.monotonic_ns()))
        return Sent(message_id=out.idempotency_key)


async def drain(url: str, out_path: Path) -> None:
    """Wait for the go line, drain the outbox with the real worker, write the record."""
    store = Store.open(url)
    config = routing_config()
    relay = Relay(store=store, directory=slack_directory(config), router=make_router(config))
    slack = RecordingSlack()
    worker = DeliveryWorker(store=store, channels=Channels.of(department=(slack,)), outcomes=relay)
    await store.outbox_stats()  # connect before the clock starts
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    started = time.monotonic_ns()
    try:
        async with worker:
            while (await store.outbox_stats()).depth:
                await asyncio.sleep(0.02)
    finally:
        await store.close()
    out_path.write_text(  # noqa: ASYNC240  # once, after the clock stopped
        json.dumps({"pid": os.getpid(), "started": started, "sends": slack.sends})
    )


def main() -> None:
    """Entry point."""
    asyncio.run(drain(sys.argv[1], Path(sys.argv[2])))


if __name__ == "__main__":
    main()
