"""Prometheus metrics of the service: requests, latencies, served versions, A/B answers.

A pure ASGI middleware (no per-request task switching) labels requests by their route
template (`/api/v1/races/{season}/{round}`), so label cardinality stays bounded."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "f1_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "f1_http_request_seconds",
            "Time to answer, by route",
            ["method", "route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.model_version = Gauge(
            "f1_model_version_served",
            "Registered version served per stage and alias",
            ["stage", "alias"],
            registry=self.registry,
        )
        self.ab_answers = Counter(
            "f1_ab_answers",
            "Prediction answers by stage and arm (champion or challenger)",
            ["stage", "arm", "version"],
            registry=self.registry,
        )
        self.cache = Counter(
            "f1_prediction_cache", "Prediction cache lookups", ["result"], registry=self.registry
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def set_versions(self, described: dict[str, Any]) -> None:
        self.model_version.clear()
        for stage, aliases in described["models"].items():
            for alias, version in aliases.items():
                self.model_version.labels(stage, alias).set(float(version))


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def record_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, template, str(status["code"])).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
