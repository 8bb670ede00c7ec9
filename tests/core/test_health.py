"""/healthz and /metrics as an operator's monitoring reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.http import HealthCheck, build_web_app
from bot.metrics import Metrics
from bot.storage import migrate
from bot.storage.store import Store
from tests.bridge import Bridge
from tests.fakes import FakeClock


@pytest.fixture
async def client(bridge: Bridge, store: Store) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """An HTTP client on the bridge's health and metrics routes, stuck limit 60 s."""
    metrics = Metrics()
    health = HealthCheck(
        store=store,
        adapters=bridge.adapters,
        metrics=metrics,
        stuck_after=60,
        schema=lambda: migrate.current_revision(store.engine),
    )
    async with TestClient(TestServer(build_web_app(health=health, metrics=metrics, max_body=1024))) as test_client:
        yield test_client


async def test_healthz_reports_database_adapters_and_outbox(client: TestClient[web.Request, web.Application]) -> None:
    """A healthy bridge answers 200 with the database, each adapter and the outbox in the body."""
    response = await client.get("/healthz")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok"
    assert body["adapters"] == {"telegram": "up", "slack": "up"}
    assert body["outbox"] == {"depth": 0, "oldest_pending_seconds": None, "failed": 0}


async def test_stuck_outbox_is_degraded_but_still_200(
    client: TestClient[web.Request, web.Application], bridge: Bridge, clock: FakeClock
) -> None:
    """A delivery pending past the stuck limit makes the body say degraded; the status stays 200."""
    await bridge.telegram.receive(user=111, text="pothole")
    clock.advance(120)
    response = await client.get("/healthz")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "degraded"
    assert body["outbox"]["depth"] == 2
    assert body["outbox"]["oldest_pending_seconds"] == 120


async def test_metrics_expose_outbox_depth(client: TestClient[web.Request, web.Application], bridge: Bridge) -> None:
    """/metrics shows the outbox depth in Prometheus text format."""
    await bridge.telegram.receive(user=111, text="pothole")
    text = await (await client.get("/metrics")).text()
    assert "bridge_outbox_depth 2.0" in text


async def test_metrics_count_messages_and_routing() -> None:
    """The relay's observer counts inbound messages per platform and decisions per department."""
    metrics = Metrics()
    metrics.message_in("telegram")
    metrics.routed("roads")
    metrics.delivery_failed("slack", permanent=True)
    text = metrics.render().decode()
    assert 'bridge_messages_in_total{platform="telegram"} 1.0' in text
    assert 'bridge_routing_decisions_total{department="roads"} 1.0' in text
    assert 'bridge_delivery_failures_total{kind="permanent",platform="slack"} 1.0' in text
