"""Reading Server-Sent Events from an aiohttp client response, with a deadline."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientResponse

#: How long a test waits for an event before it fails.
DEADLINE = 10.0


async def next_event(response: ClientResponse) -> dict[str, Any]:
    """The next ``data:`` event on the stream, decoded from JSON."""

    async def read() -> dict[str, Any]:
        while True:
            line = await response.content.readline()
            if not line:
                raise AssertionError("the event stream ended")
            if line.startswith(b"data: "):
                data: dict[str, Any] = json.loads(line[len(b"data: ") :])
                return data

    return await asyncio.wait_for(read(), timeout=DEADLINE)


async def connected(response: ClientResponse) -> None:
    """Wait for the stream's first comment: from then on, the server has the subscription."""

    async def read() -> None:
        while True:
            line = await response.content.readline()
            if not line:
                raise AssertionError("the event stream ended")
            if line.startswith(b": connected"):
                return

    await asyncio.wait_for(read(), timeout=DEADLINE)
