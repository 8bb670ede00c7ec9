"""A database the bridge cannot use stops it with one line naming BRIDGE_DATABASE_URL and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.backends import postgres_url
from tests.safety.process import civic, free_port

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def missing_database_url() -> str:
    """The test server's URL with a database name that does not exist there."""
    url = postgres_url()
    assert url is not None
    return make_url(url).set(database="civic_bridge_no_such_database").render_as_string(hide_password=False)


def assert_one_line_naming_the_url(stderr: str) -> None:
    """Besides log lines, stderr is one ``civic-bridge:`` line naming BRIDGE_DATABASE_URL, with no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("civic-bridge: BRIDGE_DATABASE_URL")


@pytest.mark.postgres
def test_run_on_a_missing_postgres_database_says_create_it(tmp_path: Path) -> None:
    """``run`` against a database that does not exist exits 2 with one line saying to create it."""
    result = civic(tmp_path, "run", BRIDGE_DATABASE_URL=missing_database_url(), BRIDGE_HTTP_PORT=str(free_port()))
    assert result.returncode == 2
    assert_one_line_naming_the_url(result.stderr)
    assert "does not exist" in result.stderr
    assert "createdb" in result.stderr


@pytest.mark.postgres
def test_db_check_on_a_missing_postgres_database_says_create_it(tmp_path: Path) -> None:
    """``db check`` against a database that does not exist says the same, in one line."""
    result = civic(tmp_path, "db", "check", BRIDGE_DATABASE_URL=missing_database_url())
    assert result.returncode == 2
    assert_one_line_naming_the_url(result.stderr)


@pytest.mark.postgres
def test_unknown_postgres_role_is_named_without_its_password(tmp_path: Path) -> None:
    """A role the server does not know is reported in one line that never shows the URL's password."""
    url = postgres_url()
    assert url is not None
    wrong = make_url(url).set(username="civic_bridge_no_such_role", password="hunter2-secret")  # noqa: S106  # made up
    result = civic(tmp_path, "run", BRIDGE_DATABASE_URL=wrong.render_as_string(hide_password=False))
    assert result.returncode == 2
    assert_one_line_naming_the_url(result.stderr)
    assert "hunter2-secret" not in result.stderr


def test_unreachable_database_server_says_start_it(tmp_path: Path) -> None:
    """A server that does not answer on its port is one line saying to start it or fix host and port."""
    url = f"postgresql+asyncpg://postgres:pw-secret@127.0.0.1:{free_port()}/civic"
    result = civic(tmp_path, "run", BRIDGE_DATABASE_URL=url, BRIDGE_HTTP_PORT=str(free_port()))
    assert result.returncode == 2
    assert_one_line_naming_the_url(result.stderr)
    assert "127.0.0.1" in result.stderr
    assert "pw-secret" not in result.stderr
