"""Settings that would make the bridge unsafe stop it before it starts, with one line naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings
from tests.safety.process import civic

SECRETS = (
    "BRIDGE_SLACK_SIGNING_SECRET",
    "BRIDGE_SLACK_BOT_TOKEN",
    "BRIDGE_SLACK_APP_TOKEN",
    "BRIDGE_TELEGRAM_TOKEN",
    "BRIDGE_TELEGRAM_WEBHOOK_SECRET",
    "BRIDGE_DISCORD_TOKEN",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BRIDGE_ variable or .env of the caller leaks into these tests."""
    monkeypatch.chdir(tmp_path)
    for name in [*SECRETS, "BRIDGE_TRUSTED_PROXIES", "BRIDGE_METRICS_BEHIND_PROXY"]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_empty_secret_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """An empty or blank token or secret is an error that names the variable and says how to fix it."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"{name}: ")
    assert "empty" in message
    assert "remove the variable" in message
    assert len(message.splitlines()) == 1


def test_run_with_empty_signing_secret_stops_with_one_line(tmp_path: Path) -> None:
    """``civic-bridge run`` with an empty Slack signing secret exits non-zero with one line and no traceback."""
    result = civic(tmp_path, "run", BRIDGE_SLACK_BOT_TOKEN="xoxb-1", BRIDGE_SLACK_SIGNING_SECRET="")  # noqa: S106  # a made-up token
    assert result.returncode == 2
    assert "BRIDGE_SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_trusted_proxies_default_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unless set, no proxy is trusted: forwarding headers are never believed."""
    assert load_settings().trusted_proxies.networks == ()


def test_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``BRIDGE_TRUSTED_PROXIES`` takes comma-separated addresses and networks."""
    monkeypatch.setenv("BRIDGE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    trusted = load_settings().trusted_proxies
    assert trusted.trusts("127.0.0.1")
    assert trusted.trusts("10.20.30.40")
    assert not trusted.trusts("203.0.113.9")


def test_malformed_trusted_proxies_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host name in ``BRIDGE_TRUSTED_PROXIES`` is refused with the variable named."""
    monkeypatch.setenv("BRIDGE_TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(SettingsError, match=r"^BRIDGE_TRUSTED_PROXIES: .*proxy\.example"):
        load_settings()


def test_metrics_behind_proxy_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default /metrics is not served to requests that came through a proxy."""
    assert load_settings().metrics_behind_proxy is False
