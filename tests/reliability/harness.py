"""Real ``civic-bridge run`` processes on a private PostgreSQL database, between the Telegram and Slack emulators."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from tests.backends import postgres_url
from tests.emulators.slack import BOT_TOKEN, SIGNING_SECRET, SlackEmulator
from tests.emulators.telegram import TOKEN, TelegramEmulator
from tests.waiting import eventually

CHANNELS = ("C0ROADS", "C0WASTE")
ROUTING = """\
fallback: waste
departments:
  - key: roads
    name: Roads & Transport
    slack_channel: C0ROADS
    keywords: [pothole]
  - key: waste
    name: Waste & Recycling
    slack_channel: C0WASTE
    keywords: [bin]
"""
TOKEN_PATTERN = re.compile(r"\bm(\d+)-(\d+)\b")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def private_database() -> AsyncIterator[str]:
    """A PostgreSQL database of its own for one test (processes share it), dropped afterwards."""
    url = postgres_url()
    assert url is not None
    name = f"reliability_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class BridgeProcess:
    """One ``civic-bridge run`` process and the port its HTTP server listens on."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def health(self) -> dict[str, Any] | None:
        """The /healthz body, or None while the server is not up."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                return dict(json.load(response))
        except OSError:
            return None

    def holds_telegram_intake(self) -> bool:
        """Whether this process runs the Telegram long polling now."""
        body = self.health()
        return body is not None and body.get("intake", {}).get("telegram") == "here"

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM, then wait for the clean exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Cluster:
    """Bridge processes sharing one database and one Telegram bot and Slack workspace (emulated)."""

    database_url: str
    telegram: TelegramEmulator
    slack: SlackEmulator
    folder: Path
    processes: list[BridgeProcess] = field(default_factory=list)

    def start(self) -> BridgeProcess:
        """Start one more bridge process (it is up once /healthz answers)."""
        routing = self.folder / "routing.yaml"
        routing.write_text(ROUTING)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
        env |= {
            "BRIDGE_DATABASE_URL": self.database_url,
            "BRIDGE_ROUTING_FILE": str(routing),
            "BRIDGE_HTTP_PORT": str(port),
            "BRIDGE_TELEGRAM_TOKEN": TOKEN,
            "BRIDGE_TELEGRAM_API_URL": self.telegram.api_url,
            "BRIDGE_SLACK_BOT_TOKEN": BOT_TOKEN,
            "BRIDGE_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "BRIDGE_SLACK_API_URL": self.slack.api_url,
            "BRIDGE_DELIVERY_LEASE_SECONDS": "3",
            "BRIDGE_LOG_LEVEL": "WARNING",
        }
        log = self.folder / f"bridge-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=self.folder, env=env, stdout=output, stderr=output
            )
        bridge = BridgeProcess(process, port, log)
        self.processes.append(bridge)
        return bridge

    async def up(self, bridge: BridgeProcess) -> None:
        """Wait until a process answers /healthz."""
        await eventually(lambda: bridge.health() is not None, timeout=60, what=f"bridge on port {bridge.port}")

    def stop_all(self) -> None:
        """End every process still running."""
        for bridge in self.processes:
            bridge.terminate()


@contextlib.asynccontextmanager
async def cluster(folder: Path) -> AsyncIterator[Cluster]:
    """Emulators and a private database; processes are started by the test and ended afterwards."""
    async with (
        private_database() as database_url,
        TelegramEmulator() as telegram,
        SlackEmulator(channels=CHANNELS) as slack,
    ):
        running = Cluster(database_url, telegram, slack, folder)
        try:
            yield running
        finally:
            await asyncio.to_thread(running.stop_all)


def citizen_text(user: int, number: int) -> str:
    """A citizen message whose token ``m<user>-<number>`` can be found again in Slack."""
    keyword = "pothole" if user % 2 else "bin"
    return f"{keyword} report m{user}-{number}"


@dataclass(frozen=True, slots=True)
class Arrivals:
    """What reached Slack: each citizen token's count, and each case's tokens in thread order."""

    counts: Counter[str]
    threads: list[list[tuple[int, int]]]

    def missing(self, expected: set[str]) -> set[str]:
        """Tokens that never arrived."""
        return expected - set(self.counts)

    def duplicated(self) -> dict[str, int]:
        """Tokens that arrived more than once, with their count."""
        return {token: n for token, n in self.counts.items() if n > 1}

    def out_of_order(self) -> list[list[tuple[int, int]]]:
        """Threads whose citizen messages are not in the order the citizen sent them (duplicates aside)."""
        bad = []
        for thread in self.threads:
            numbers = [number for _user, number in dict.fromkeys(thread)]
            if numbers != sorted(numbers):
                bad.append(thread)
        return bad


def arrivals(slack: SlackEmulator) -> Arrivals:
    """Read the citizen tokens out of every root and thread reply the bridge posted."""
    counts: Counter[str] = Counter()
    threads = []
    for root in slack.roots():
        thread: list[tuple[int, int]] = []
        for message in [root, *slack.thread(root)]:
            for user, number in TOKEN_PATTERN.findall(message.text):
                counts[f"m{user}-{number}"] += 1
                thread.append((int(user), int(number)))
        threads.append(thread)
    return Arrivals(counts, threads)
