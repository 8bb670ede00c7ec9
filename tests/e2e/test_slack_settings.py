"""Wiring the Slack adapter from settings: what is required, and which routes it mounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.factory import build_adapters
from adapters.slack import SlackAdapter, from_settings
from bot.live import LocalLiveEvents
from bot.storage.store import Store
from bot.storage.views import StoreViews
from bot.storage.web_sessions import StoreSessions
from config.settings import Settings, SettingsError
from tests.bridge import DIRECTORY

BOT = "xoxb-test"
APP = "xapp-test"
SECRET = "signing-test"  # noqa: S105  # a fake secret


def _settings(values: dict[str, str]) -> Settings:
    """Settings from these values alone (validated, without the environment or .env)."""
    return Settings.model_validate(values)


@pytest.fixture
async def unused_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store behind the web adapters the factory always builds (never queried here)."""
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    yield store
    await store.close()


def test_bot_token_without_a_way_to_receive_is_refused() -> None:
    """A bot token alone is an error naming both ways to receive events."""
    with pytest.raises(SettingsError) as raised:
        from_settings(_settings({"slack_bot_token": BOT}), directory=DIRECTORY)
    assert "BRIDGE_SLACK_SIGNING_SECRET" in str(raised.value)
    assert "BRIDGE_SLACK_APP_TOKEN" in str(raised.value)


def test_signing_secret_mounts_the_events_endpoint() -> None:
    """With a signing secret the adapter serves POST /slack/events (and /slack/actions)."""
    settings = _settings({"slack_bot_token": BOT, "slack_signing_secret": SECRET})
    adapter = from_settings(settings, directory=DIRECTORY)
    app = web.Application()
    adapter.mount(app)
    paths = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
    assert paths == {"/slack/events", "/slack/actions"}


def test_socket_mode_only_mounts_nothing() -> None:
    """With only an app token there is no public endpoint."""
    adapter = SlackAdapter(bot_token=SecretStr(BOT), app_token=SecretStr(APP), directory=DIRECTORY)
    app = web.Application()
    adapter.mount(app)
    assert list(app.router.routes()) == []


def test_factory_adds_slack_when_its_token_is_set(unused_store: Store) -> None:
    """build_adapters includes the Slack adapter once BRIDGE_SLACK_BOT_TOKEN is set."""
    settings = _settings({"slack_bot_token": BOT, "slack_app_token": APP})
    adapters = build_adapters(
        settings,
        directory=DIRECTORY,
        views=StoreViews(store=unused_store),
        sessions=StoreSessions(store=unused_store),
        live=LocalLiveEvents(),
    )
    assert [a.platform for a in adapters if isinstance(a, SlackAdapter)] == ["slack"]


def test_health_is_down_before_start() -> None:
    """An adapter that has not started says so."""
    adapter = SlackAdapter(bot_token=SecretStr(BOT), app_token=SecretStr(APP), directory=DIRECTORY)
    assert adapter.health().startswith("down")
