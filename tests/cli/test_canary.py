"""The canary decision as a pure function, its two metric sources (a Prometheus that answers
the query API, and /metrics scrapes), and `f1 release canary` against two live service
instances on 127.0.0.1: the same version is promoted, a broken one rolled back."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.canary import Metrics, Scrape, Thresholds, decide, from_prometheus, parse, quantile
from cli.main import app
from serving.settings import ServiceSettings
from tests.servers.base import LocalServer
from tests.serving.test_voting import LiveServer

STABLE = Metrics(requests=9000, errors=9, p95_ms=40.0)  # 0.1 % errors


def test_the_same_behaviour_is_promoted() -> None:
    verdict = decide(STABLE, Metrics(1000, 1, 42.0))
    assert verdict.decision == "promote"
    assert verdict.reasons == ["canary error rate 0.10% (stable 0.10%), p95 42 ms: within limits"]


def test_a_canary_with_too_little_traffic_is_inconclusive() -> None:
    verdict = decide(STABLE, Metrics(99, 99, 900.0))
    assert verdict.decision == "inconclusive"
    assert verdict.reasons == ["99 canary requests, fewer than the 100 needed"]
    assert decide(STABLE, Metrics(99, 0, 1.0), Thresholds(min_requests=50)).decision == "promote"


def test_errors_roll_back_when_the_increase_is_real_and_large_enough() -> None:
    broken = decide(STABLE, Metrics(1000, 400, 41.0))
    assert broken.decision == "rollback"
    assert broken.reasons == ["canary error rate 40.00% above the 5% limit"]
    # 3 % against 0.1 % on 1,000 requests: above the tolerance and far beyond chance
    worse = decide(STABLE, Metrics(1000, 30, 40.0))
    assert worse.decision == "rollback" and worse.reasons[0].startswith(
        "canary error rate 3.00% against 0.10% stable (z = "
    )
    # 1.5 % on 100 requests against 0.1 % on 9,000: z ≈ 4.1, significant even on few requests
    pooled = (9 + 1.5) / 9100
    z = (0.015 - 0.001) / math.sqrt(pooled * (1 - pooled) * (1 / 9000 + 1 / 100))
    assert z == pytest.approx(4.11, abs=0.01)
    assert decide(STABLE, Metrics(100, 1.5, 40.0)).decision == "rollback"
    # an increase within the tolerance never rolls back: 1.0 % against 0.1 %
    assert decide(STABLE, Metrics(1000, 10, 40.0)).decision == "promote"
    # past the tolerance but not beyond chance: 1.75 % against 0.5 %, 400 requests each, z ≈ 1.7
    assert decide(Metrics(400, 2, 40.0), Metrics(400, 7, 40.0)).decision == "promote"


def test_latency_rolls_back_past_both_the_ratio_and_the_floor() -> None:
    slow = decide(STABLE, Metrics(1000, 1, 80.0))
    assert slow.decision == "rollback"
    assert slow.reasons == ["canary p95 80 ms against 40 ms stable (+40 ms)"]
    assert decide(STABLE, Metrics(1000, 1, 60.0)).decision == "promote"  # +50 % but +20 ms
    fast = Metrics(9000, 0, 4.0)
    assert decide(fast, Metrics(1000, 0, 12.0)).decision == "promote"  # 3× but +8 ms
    both = decide(STABLE, Metrics(1000, 300, 500.0))
    assert both.decision == "rollback" and len(both.reasons) == 2


def test_the_p95_is_interpolated_as_histogram_quantile_does() -> None:
    buckets = {0.01: 50.0, 0.05: 90.0, 0.1: 100.0, math.inf: 100.0}
    # rank 95 falls in (0.05, 0.1]: 0.05 + 0.05 × (95 − 90) / (100 − 90)
    assert quantile(0.95, buckets) == pytest.approx(0.075)
    assert quantile(0.5, buckets) == pytest.approx(0.01)
    assert quantile(0.95, {0.1: 10.0, math.inf: 100.0}) == 0.1  # in +Inf: the highest bound
    assert quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None


def test_a_metrics_page_is_read_without_the_scrapes_themselves() -> None:
    page = "\n".join(
        [
            "# TYPE f1_http_requests_total counter",
            'f1_http_requests_total{method="GET",route="/api/v1/races",status="200"} 90.0',
            'f1_http_requests_total{method="GET",route="/api/v1/races",status="503"} 10.0',
            'f1_http_requests_total{method="GET",route="/metrics",status="200"} 7.0',
            "# TYPE f1_http_request_seconds histogram",
            'f1_http_request_seconds_bucket{method="GET",route="/api/v1/races",le="0.01"} 60.0',
            'f1_http_request_seconds_bucket{method="GET",route="/api/v1/races",le="0.1"} 100.0',
            'f1_http_request_seconds_bucket{method="GET",route="/api/v1/races",le="+Inf"} 100.0',
            'f1_http_request_seconds_bucket{method="GET",route="/metrics",le="0.01"} 7.0',
            'f1_http_request_seconds_bucket{method="GET",route="/metrics",le="0.1"} 7.0',
            'f1_http_request_seconds_bucket{method="GET",route="/metrics",le="+Inf"} 7.0',
            'f1_http_request_seconds_count{method="GET",route="/api/v1/races"} 100.0',
            'f1_http_request_seconds_sum{method="GET",route="/api/v1/races"} 2.0',
            "",
        ]
    )
    read = parse(page)
    assert (read.requests, read.errors) == (100.0, 10.0)
    window = (read - Scrape(40.0, 0.0, {0.01: 30.0, 0.1: 40.0, math.inf: 40.0})).metrics()
    assert (window.requests, window.errors) == (60.0, 10.0)
    # 60 in the window: 30 under 10 ms, 30 more under 100 ms; rank 57 → 0.01 + 0.09 × 27/30
    assert window.p95_ms == pytest.approx((0.01 + 0.09 * 27 / 30) * 1000)


def test_prometheus_is_asked_for_each_track_over_the_window() -> None:
    asked: list[str] = []
    answers = {
        ("stable", "requests"): 9000.0,
        ("stable", "errors"): 9.0,
        ("stable", "p95"): 0.040,
        ("canary", "requests"): 1000.0,
        ("canary", "errors"): 200.0,
        ("canary", "p95"): 0.045,
    }

    def route(path: str, query: dict[str, str]) -> tuple[int, Any]:
        assert path == "/api/v1/query"
        promql = query["query"]
        asked.append(promql)
        track = "canary" if 'track="canary"' in promql else "stable"
        kind = "p95" if "histogram_quantile" in promql else (
            "errors" if 'status=~"5.."' in promql else "requests"
        )  # fmt: skip
        vector = [{"metric": {}, "value": [1733011200.0, str(answers[(track, kind)])]}]
        return 200, {"status": "success", "data": {"resultType": "vector", "result": vector}}

    with LocalServer(route) as prometheus:
        verdict = from_prometheus(prometheus.url, "10m")
    assert verdict.decision == "rollback"
    assert (verdict.canary.requests, verdict.canary.errors) == (1000.0, 200.0)
    assert verdict.stable.p95_ms == pytest.approx(40.0)
    assert len(asked) == 6 and all("[10m]" in q and 'job="f1-service"' in q for q in asked)
    assert all('route!="/metrics"' in q for q in asked)


def _service(engine: Engine) -> ServiceSettings:
    url = engine.url.render_as_string(hide_password=False)
    return ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False)


def test_f1_release_canary_promotes_the_same_version_and_rolls_back_a_broken_one(
    history_file: Path, tmp_path: Path
) -> None:
    """Old and new version: two live instances on one warehouse (the bundled history). The
    broken new version is deployed before its migration ran: its warehouse is empty, every
    data route fails. (Both instances share this process, so the latency floor is raised
    above what a busy test machine adds; the latency rule is checked on its own above.)"""
    from warehouse.db import make_engine

    history = make_engine(f"sqlite:///{history_file}")
    runner = CliRunner()
    args = ["release", "canary", "--drive", "1200", "--min-requests", "80", "--json",
            "--min-p95-increase-ms", "500"]  # fmt: skip
    with LiveServer(_service(history)) as old, LiveServer(_service(history)) as new:
        same = runner.invoke(app, [*args, "--stable", old, "--canary", new])
    assert same.exit_code == 0, same.output
    verdict = json.loads(same.output.strip().splitlines()[-1])
    assert verdict["decision"] == "promote"
    assert verdict["canary"]["requests"] >= 80 and verdict["stable"]["requests"] >= 900
    assert verdict["canary"]["errors"] == 0

    empty = make_engine(f"sqlite:///{tmp_path / 'not-migrated.db'}")
    with LiveServer(_service(history)) as old, LiveServer(_service(empty)) as broken:
        rolled = runner.invoke(app, [*args, "--stable", old, "--canary", broken])
    assert rolled.exit_code == 1, rolled.output
    verdict = json.loads(rolled.output.strip().splitlines()[-1])
    assert verdict["decision"] == "rollback" and verdict["stable"]["errors"] == 0
    assert verdict["canary"]["error_rate"] > 0.5
    assert "above the 5% limit" in verdict["reasons"][0]
    empty.dispose()
    history.dispose()
