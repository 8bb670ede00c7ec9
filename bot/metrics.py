"""Prometheus metrics, on a registry of the app's own (no process-wide globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    """Counters the relay and delivery worker bump, and outbox gauges set at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._in = Counter(
            "bridge_messages_in", "Inbound events accepted, per platform", ["platform"], registry=self.registry
        )
        self._out = Counter(
            "bridge_messages_out", "Deliveries sent, per platform", ["platform"], registry=self.registry
        )
        self._failures = Counter(
            "bridge_delivery_failures",
            "Failed delivery attempts, per platform and kind (transient or permanent)",
            ["platform", "kind"],
            registry=self.registry,
        )
        self._routed = Counter(
            "bridge_routing_decisions", "Cases routed, per department", ["department"], registry=self.registry
        )
        self.outbox_depth = Gauge("bridge_outbox_depth", "Pending deliveries", registry=self.registry)
        self.outbox_oldest_age = Gauge(
            "bridge_outbox_oldest_pending_seconds", "Age of the oldest pending delivery", registry=self.registry
        )
        self.outbox_failed = Gauge("bridge_outbox_failed", "Deliveries that failed for good", registry=self.registry)
        self.outbox_stuck = Gauge(
            "bridge_outbox_stuck",
            "1 when the oldest pending delivery is older than the stuck limit",
            registry=self.registry,
        )

    def message_in(self, platform: str) -> None:
        """An inbound event was accepted."""
        self._in.labels(platform=platform).inc()

    def routed(self, department: str) -> None:
        """A case was routed to a department."""
        self._routed.labels(department=department).inc()

    def delivered(self, platform: str) -> None:
        """A delivery was sent."""
        self._out.labels(platform=platform).inc()

    def delivery_failed(self, platform: str, *, permanent: bool) -> None:
        """A delivery attempt failed."""
        self._failures.labels(platform=platform, kind="permanent" if permanent else "transient").inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
