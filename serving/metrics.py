"""Prometheus metrics of the service: requests, latencies, served versions, A/B answers; and,
read from the warehouse at each scrape, the platform's health: how each Airflow task last
ended, how overdue the latest race weekend's results are, and the champion's live accuracy
beside its stage's baseline (what prometheus/alerts.yml alerts on).

A pure ASGI middleware (no per-request task switching) labels requests by their route
template (`/api/v1/races/{season}/{round}`), so label cardinality stays bounded."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.orm import Session

from models.registry import CHAMPION, model_name
from warehouse.operations import latest_drift, live_accuracy, results_freshness, task_statuses

LIVE_RACES = 5

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

        self.warehouse_up = Gauge(
            "f1_warehouse_up",
            "1 when the warehouse answered this scrape (the health gauges below are current)",
            registry=self.registry,
        )
        self.task_failed = Gauge(
            "f1_pipeline_task_failed",
            "1 when the task's latest run failed (after its retries), else 0",
            ["dag", "task"],
            registry=self.registry,
        )
        self.task_success = Gauge(
            "f1_pipeline_task_last_success_timestamp_seconds",
            "When the task last succeeded (Unix time)",
            ["dag", "task"],
            registry=self.registry,
        )
        self.results_overdue = Gauge(
            "f1_warehouse_results_overdue_days",
            "Days since the first race held after the latest one with results (0: up to date)",
            registry=self.registry,
        )
        self.last_result = Gauge(
            "f1_warehouse_last_result_timestamp_seconds",
            "Date of the latest race with results (Unix time)",
            registry=self.registry,
        )
        self.live = Gauge(
            "f1_live_log_loss",
            f"Mean log loss over the champion's last {LIVE_RACES} scored races, by stage, of the "
            "champion and of the stage's baseline (model=baseline) on the same races",
            ["stage", "model"],
            registry=self.registry,
        )
        self.live_top1 = Gauge(
            "f1_live_top1",
            f"Share of the champion's last {LIVE_RACES} scored races whose favourite won",
            ["stage", "model"],
            registry=self.registry,
        )
        self.live_races = Gauge(
            "f1_live_races",
            "Scored races behind f1_live_log_loss (up to 5)",
            ["stage"],
            registry=self.registry,
        )

        self.feature_drift = Gauge(
            "f1_feature_drift_ks",
            "KS statistic D of each feature among the last checked race's entrants against the "
            "training window (pipelines/drift.py)",
            ["stage", "feature"],
            registry=self.registry,
        )
        self.live_gap = Gauge(
            "f1_live_log_loss_gap",
            "The champion's live log loss minus its validation log loss (nats)",
            ["stage"],
            registry=self.registry,
        )
        self.drift_alerts = Gauge(
            "f1_drift_alerts",
            "Drift checks past their threshold for the last checked race",
            ["stage"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def set_versions(self, described: dict[str, Any]) -> None:
        self.model_version.clear()
        for stage, aliases in described["models"].items():
            for alias, version in aliases.items():
                self.model_version.labels(stage, alias).set(float(version))

    def set_operations(self, session: Session, described: dict[str, Any]) -> None:
        """The warehouse-backed gauges, as of now."""
        self.task_failed.clear()
        self.task_success.clear()
        for status in task_statuses(session):
            self.task_failed.labels(status.dag_id, status.task_id).set(status.state == "failed")
            if status.last_success_at is not None:
                self.task_success.labels(status.dag_id, status.task_id).set(
                    status.last_success_at.timestamp()
                )
        freshness = results_freshness(session)
        self.results_overdue.set(freshness["overdue_days"])
        if freshness["last_result"] is not None:
            midnight = dt.datetime.combine(freshness["last_result"], dt.time(), dt.UTC)
            self.last_result.set(midnight.timestamp())
        self.live.clear()
        self.live_top1.clear()
        self.live_races.clear()
        for stage, aliases in described["models"].items():
            version = aliases.get(CHAMPION)
            live = version and live_accuracy(session, stage, model_name(stage), version, LIVE_RACES)
            if not live:
                continue
            self.live_races.labels(stage).set(live["races"])
            for model, prefix in (("champion", ""), ("baseline", "baseline_")):
                self.live.labels(stage, model).set(live[f"{prefix}log_loss"])
                self.live_top1.labels(stage, model).set(live[f"{prefix}top1"])
        self.feature_drift.clear()
        self.live_gap.clear()
        self.drift_alerts.clear()
        for check in latest_drift(session):
            if check.kind == "feature":
                self.feature_drift.labels(check.stage, check.subject).set(check.statistic)
            else:
                self.live_gap.labels(check.stage).set(check.statistic)
            self.drift_alerts.labels(check.stage).inc(float(check.alert))


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
