"""The ``civic-bridge`` command as an operator runs it: a real process, real signals, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import migrate

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update({"BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def _start(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=_env(tmp_path, BRIDGE_HTTP_PORT=str(port), **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _healthz(port: int, deadline: float = 30.0) -> dict[str, object]:
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                assert response.status == 200
                return dict(json.load(response))
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def _civic(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one ``civic-bridge`` command to completion in ``tmp_path``."""
    return subprocess.run(  # noqa: S603  # our own command, arguments chosen by the test
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A bridge process with no platform configured, stopped after the test."""
    port = _free_port()
    process = _start(tmp_path, port)
    try:
        _healthz(port)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_run_without_platforms_answers_healthz(running: tuple[subprocess.Popen[str], int]) -> None:
    """With no platform token the bridge still starts, migrates and reports healthy."""
    _process, port = running
    body = _healthz(port)
    assert body["database"] == "up"
    assert body["schema"] == migrate.head_revision()


def test_ctrl_c_stops_the_bridge_cleanly(running: tuple[subprocess.Popen[str], int]) -> None:
    """SIGINT ends the bridge with exit code 0 and a clean-stop line."""
    process, _port = running
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stopped cleanly" in output


def test_first_log_line_says_the_built_in_routing_is_used(running: tuple[subprocess.Popen[str], int]) -> None:
    """With no routing file the first log line says the built-in example routing is in use."""
    process, _port = running
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert "built-in example routing" in output.splitlines()[0]


def test_second_process_on_one_sqlite_file_is_refused(
    running: tuple[subprocess.Popen[str], int], tmp_path: Path
) -> None:
    """A second bridge on the same SQLite file stops with a message pointing at PostgreSQL."""
    second = _civic(tmp_path, "run", BRIDGE_HTTP_PORT=str(_free_port()))
    assert second.returncode == 2
    assert "PostgreSQL" in second.stderr


def test_malformed_setting_names_the_variable(tmp_path: Path) -> None:
    """A bad value is one line naming the BRIDGE_ variable, not a traceback."""
    result = _civic(tmp_path, "run", BRIDGE_HTTP_PORT="eighty")
    assert result.returncode == 2
    assert "BRIDGE_HTTP_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_routing_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    """Pointing BRIDGE_ROUTING_FILE at a missing file stops with the variable named."""
    result = _civic(tmp_path, "run", BRIDGE_ROUTING_FILE="nowhere.yaml")
    assert result.returncode == 2
    assert "BRIDGE_ROUTING_FILE" in result.stderr


def test_db_upgrade_then_check_reports_ok(tmp_path: Path) -> None:
    """``db upgrade`` migrates a new database and ``db check`` then finds it sound."""
    upgrade = _civic(tmp_path, "db", "upgrade")
    check = _civic(tmp_path, "db", "check")
    assert (upgrade.returncode, check.returncode) == (0, 0)
    assert check.stdout.startswith("ok")


def test_db_check_on_an_empty_database_says_to_upgrade(tmp_path: Path) -> None:
    """``db check`` on a database that was never migrated fails and names the fix."""
    result = _civic(tmp_path, "db", "check")
    assert result.returncode == 1
    assert "civic-bridge db upgrade" in result.stdout
