"""The bridge's HTTP server: /healthz, /metrics, and the routes adapters mount (webhooks, web chat, desk)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.body_limits import Handler, body_limit_middleware
from bot.client_address import TrustedProxies, came_through_proxy, client_address
from bot.metrics import Metrics
from bot.model import Platform
from bot.ports import Channel
from bot.storage.store import OutboxStats, Store, Tx


@dataclass(frozen=True, slots=True)
class Health:
    """What /healthz reports; ``degraded`` never changes the status code."""

    status: str
    database: str
    schema: str | None
    adapters: Mapping[str, str]
    intake: Mapping[str, str]
    outbox_depth: int
    outbox_oldest_pending_seconds: float | None
    outbox_failed: int
    routing: Mapping[str, Any] | None = None
    #: Inbound events set aside after failing again and again (``civic-bridge events list``).
    set_aside: int = 0

    def as_json(self) -> dict[str, Any]:
        """The JSON body."""
        routing = {"routing": dict(self.routing)} if self.routing is not None else {}
        return {
            "status": self.status,
            "database": self.database,
            "schema": self.schema,
            "adapters": dict(self.adapters),
            "intake": dict(self.intake),
            "outbox": {
                "depth": self.outbox_depth,
                "oldest_pending_seconds": self.outbox_oldest_pending_seconds,
                "failed": self.outbox_failed,
            },
            **routing,
            "set_aside": self.set_aside,
        }


class HealthCheck:
    """Computes health from the store and adapters, and refreshes the outbox gauges."""

    def __init__(
        self,
        *,
        store: Store,
        adapters: Mapping[Platform, Channel],
        metrics: Metrics,
        stuck_after: float,
        schema: Callable[[], Awaitable[str | None]],
        intake: Callable[[], Mapping[str, str]] = dict,
        routing: Callable[[], Mapping[str, Any] | None] = lambda: None,
    ) -> None:
        self._store = store
        self._adapters = adapters
        self._metrics = metrics
        self._stuck_after = stuck_after
        self._schema = schema
        self._intake = intake
        self._routing = routing

    async def check(self) -> Health:
        """Read the database and adapters once."""
        try:
            stats = await self._store.outbox_stats()
            schema = await self._schema()
            set_aside = await self._store.read(_set_aside_count)
            database = "up"
        except Exception as error:  # noqa: BLE001  # any database failure is reported, not raised
            stats, schema, database = OutboxStats(0, None, 0), None, f"down: {type(error).__name__}"
            set_aside = 0
        oldest = (self._store.now() - stats.oldest_pending_at).total_seconds() if stats.oldest_pending_at else None
        stuck = oldest is not None and oldest > self._stuck_after
        adapters = {str(name): adapter.health() for name, adapter in self._adapters.items()}
        degraded = stuck or database != "up" or any(state != "up" for state in adapters.values())
        self._metrics.outbox_depth.set(stats.depth)
        self._metrics.outbox_oldest_age.set(oldest or 0.0)
        self._metrics.outbox_failed.set(stats.failed)
        self._metrics.outbox_stuck.set(1 if stuck else 0)
        return Health(
            status="degraded" if degraded else "ok",
            database=database,
            schema=schema,
            adapters=adapters,
            intake=self._intake(),
            outbox_depth=stats.depth,
            outbox_oldest_pending_seconds=round(oldest, 3) if oldest is not None else None,
            outbox_failed=stats.failed,
            routing=self._routing(),
            set_aside=set_aside,
        )


async def _set_aside_count(tx: Tx) -> int:
    return await tx.set_aside_count()


def forwarding_middleware(trusted: TrustedProxies) -> Middleware:
    """Behind a trusted proxy, ``request.remote`` is the client and ``request.secure`` what the browser used."""

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not trusted.trusts(request.remote):
            return await handler(request)
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        scheme = proto if proto in {"http", "https"} else request.scheme
        return await handler(request.clone(remote=client_address(request, trusted), scheme=scheme))

    return forwarded


def build_web_app(
    *,
    health: HealthCheck,
    metrics: Metrics,
    max_body: int,
    trusted_proxies: TrustedProxies = TrustedProxies(),  # noqa: B008  # an immutable value: "trust no proxy"
    metrics_behind_proxy: bool = False,
) -> web.Application:
    """The aiohttp application with the bridge's own routes; adapters mount theirs after.

    ``max_body`` is the body limit of every route that does not declare its own (``bot.body_limits``).
    """
    app = web.Application(
        client_max_size=max_body,
        middlewares=[forwarding_middleware(trusted_proxies), body_limit_middleware(default=max_body)],
    )

    async def healthz(_request: web.Request) -> web.Response:
        report = await health.check()
        return web.json_response(report.as_json(), dumps=json.dumps)

    async def metrics_page(request: web.Request) -> web.Response:
        if came_through_proxy(request) and not metrics_behind_proxy:
            # Monitoring scrapes the bridge directly; what a public proxy forwards must not see it.
            raise web.HTTPNotFound
        await health.check()
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app
