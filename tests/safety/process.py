"""Running ``python -m bot`` as an operator does, from this worktree, for the safety tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a bridge on a temporary SQLite file, none of the caller's BRIDGE_ settings kept."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update({"BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def civic(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one ``civic-bridge`` command to completion in ``tmp_path``."""
    return subprocess.run(  # noqa: S603  # our own command, arguments chosen by the test
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def start(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[str]:
    """Start ``civic-bridge run`` on ``port``; the caller stops it."""
    return subprocess.Popen(  # our own command, arguments chosen by the test
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=environment(tmp_path, BRIDGE_HTTP_PORT=str(port), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(port: int, deadline: float = 30.0) -> dict[str, object]:
    """Poll /healthz until it answers 200; its JSON body."""
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return dict(json.load(response))
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen[str]) -> str:
    """Stop a bridge started with ``start`` (SIGTERM, then SIGKILL after 20 s); its output."""
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output
