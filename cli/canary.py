"""The canary decision: promote a new version or roll it back, from what the stable and the
canary versions served during the same window.

`decide` is a pure function of two `Metrics` (requests, 5xx errors, p95 latency):
- too few canary requests to judge: `inconclusive` (at the end of a window: roll back; a version
  that could not be shown safe is not promoted);
- its error rate above the stable one by more than `max_error_increase` *and* significantly so
  (a one-sided two-proportion z-test, z > `z_critical`), or above `max_error_rate` whatever the
  stable version does: `rollback`;
- its p95 above the stable p95 × `max_p95_ratio` *and* by more than `min_p95_increase_ms` (so
  that a millisecond of noise on a fast route does not count): `rollback`;
- otherwise `promote`.

The metrics come from the service's own Prometheus series, `f1_http_requests_total` and the
`f1_http_request_seconds` histogram (scrapes of /metrics itself excluded):
- `scrape`: each instance's /metrics read at the start and the end of the window, the
  difference taken and the p95 interpolated from the histogram buckets the way Prometheus's
  `histogram_quantile` does (two live instances on one machine, the tests, a local rehearsal);
- `from_prometheus`: the same numbers asked of Prometheus over the window (`increase(...)`,
  `histogram_quantile(0.95, ...)`) for pods labelled `track="stable"` and `track="canary"`
  (the deploy workflow)."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx

Decision = Literal["promote", "rollback", "inconclusive"]
IGNORED_ROUTES = {"/metrics"}


@dataclass(frozen=True)
class Metrics:
    requests: float
    errors: float  # 5xx answers
    p95_ms: float | None  # None: no request in the window

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Thresholds:
    min_requests: int = 100  # canary requests needed to judge
    max_error_increase: float = 0.01  # absolute, over the stable version's error rate
    max_error_rate: float = 0.05  # whatever the stable version does
    z_critical: float = 2.33  # one-sided, 99 %
    max_p95_ratio: float = 1.25
    min_p95_increase_ms: float = 25.0


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: list[str]
    stable: Metrics
    canary: Metrics

    def as_dict(self) -> dict[str, object]:
        def figures(m: Metrics) -> dict[str, object]:
            p95 = None if m.p95_ms is None else round(m.p95_ms, 1)
            rate = round(m.error_rate, 4)
            return {"requests": m.requests, "errors": m.errors, "error_rate": rate, "p95_ms": p95}

        return {
            "decision": self.decision,
            "reasons": self.reasons,
            "stable": figures(self.stable),
            "canary": figures(self.canary),
        }


def decide(stable: Metrics, canary: Metrics, limits: Thresholds | None = None) -> Verdict:
    """Promote, roll back, or not enough traffic to say (see the module's docstring)."""
    limits = limits or Thresholds()
    if canary.requests < limits.min_requests:
        why = f"{canary.requests:g} canary requests, fewer than the {limits.min_requests} needed"
        return Verdict("inconclusive", [why], stable, canary)
    reasons = []
    rate, base = canary.error_rate, stable.error_rate
    if rate > limits.max_error_rate:
        reasons.append(f"canary error rate {rate:.2%} above the {limits.max_error_rate:.0%} limit")
    elif rate - base > limits.max_error_increase and _z(stable, canary) > limits.z_critical:
        reasons.append(
            f"canary error rate {rate:.2%} against {base:.2%} stable (z = {_z(stable, canary):.1f})"
        )
    if canary.p95_ms is not None and stable.p95_ms is not None:
        slower = canary.p95_ms - stable.p95_ms
        if (
            canary.p95_ms > stable.p95_ms * limits.max_p95_ratio
            and slower > limits.min_p95_increase_ms
        ):
            reasons.append(
                f"canary p95 {canary.p95_ms:.0f} ms against {stable.p95_ms:.0f} ms stable "
                f"(+{slower:.0f} ms)"
            )
    if reasons:
        return Verdict("rollback", reasons, stable, canary)
    p95 = "n/a" if canary.p95_ms is None else f"{canary.p95_ms:.0f} ms"
    ok = f"canary error rate {rate:.2%} (stable {base:.2%}), p95 {p95}: within limits"
    return Verdict("promote", [ok], stable, canary)


def _z(stable: Metrics, canary: Metrics) -> float:
    """One-sided two-proportion z statistic of the canary's error rate above the stable one."""
    if not stable.requests:
        return math.inf
    pooled = (stable.errors + canary.errors) / (stable.requests + canary.requests)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / stable.requests + 1 / canary.requests))
    if spread == 0:
        return math.inf if canary.error_rate > stable.error_rate else 0.0
    return (canary.error_rate - stable.error_rate) / spread


# -- from /metrics scrapes


@dataclass
class Scrape:
    """What one /metrics page said: requests and errors, and the latency histogram's buckets."""

    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # le → cumulative count

    def __sub__(self, earlier: Scrape) -> Scrape:
        return Scrape(
            self.requests - earlier.requests,
            self.errors - earlier.errors,
            {le: n - earlier.buckets.get(le, 0.0) for le, n in self.buckets.items()},
        )

    def metrics(self) -> Metrics:
        p95 = quantile(0.95, self.buckets)
        return Metrics(self.requests, self.errors, None if p95 is None else p95 * 1000)


def parse(page: str) -> Scrape:
    """The service's request counter and latency histogram from a Prometheus text page."""
    from prometheus_client.parser import text_string_to_metric_families

    found = Scrape()
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.labels.get("route") in IGNORED_ROUTES:
                continue
            if sample.name == "f1_http_requests_total":
                found.requests += sample.value
                if sample.labels.get("status", "").startswith("5"):
                    found.errors += sample.value
            elif sample.name == "f1_http_request_seconds_bucket":
                le = float(sample.labels["le"])
                found.buckets[le] = found.buckets.get(le, 0.0) + sample.value
    return found


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """`histogram_quantile`: linear interpolation inside the bucket holding the q-th
    observation; the highest finite bound when it falls in +Inf; None without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return bounds[-1]


def read(url: str, client: httpx.Client) -> Scrape:
    answer = client.get(f"{url.rstrip('/')}/metrics")
    answer.raise_for_status()
    return parse(answer.text)


# -- driving traffic (a local rehearsal: production has its own)


@dataclass
class Drive:
    """`requests` requests over `paths`, `weight` of them to the canary (the ingress's split)."""

    paths: Sequence[str]
    requests: int
    weight: float = 0.10
    workers: int = 8

    def warm(self, stable: str, canary: str) -> None:
        """Each path, from every worker, to each instance: a new instance's first answers
        (connections opened, caches filled) are not what it serves once warm, and the
        deploy's window, too, starts after the canary is ready."""
        plan = [(base, path) for base in (stable, canary) for path in self.paths]
        self._send(plan * self.workers)

    def run(self, stable: str, canary: str, seed: int = 0) -> None:
        chooser = random.Random(seed)  # nosec B311 (a traffic split, not a secret)
        plan = [
            (canary if chooser.random() < self.weight else stable, chooser.choice(self.paths))
            for _ in range(self.requests)
        ]
        self._send(plan)

    def _send(self, plan: list[tuple[str, str]]) -> None:
        def work(chunk: list[tuple[str, str]]) -> None:
            with httpx.Client(timeout=30) as client:
                for base, path in chunk:
                    try:
                        client.get(f"{base.rstrip('/')}{path}")
                    except httpx.TransportError:
                        pass  # the instance's own counters say what it answered

        threads = [
            threading.Thread(target=work, args=(plan[i :: self.workers],))
            for i in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def compare_instances(
    stable: str,
    canary: str,
    window_s: float = 60.0,
    drive: Drive | None = None,
    limits: Thresholds | None = None,
) -> Verdict:
    """Scrape both, wait out the window (or warm both up and `drive` traffic through it),
    scrape again, decide on the differences."""
    with httpx.Client(timeout=30) as client:
        if drive is not None:
            drive.warm(stable, canary)
        before = read(stable, client), read(canary, client)
        if drive is not None:
            drive.run(stable, canary)
        else:
            time.sleep(window_s)
        after = read(stable, client), read(canary, client)
    return decide((after[0] - before[0]).metrics(), (after[1] - before[1]).metrics(), limits)


# -- from Prometheus


def from_prometheus(
    prometheus: str,
    window: str = "10m",
    selector: str = 'job="f1-service"',
    limits: Thresholds | None = None,
) -> Verdict:
    """Ask Prometheus what `track="stable"` and `track="canary"` served over `window`."""
    with httpx.Client(base_url=prometheus.rstrip("/"), timeout=30) as client:

        def value(query: str) -> float | None:
            answer = client.get("/api/v1/query", params={"query": query})
            answer.raise_for_status()
            body = answer.json()
            if body.get("status") != "success":
                raise RuntimeError(f"Prometheus refused {query!r}: {body.get('error')}")
            result = body["data"]["result"]
            if not result:
                return None
            number = float(result[0]["value"][1])
            return None if math.isnan(number) else number

        def metrics(track: str) -> Metrics:
            where = f'{selector},track="{track}",route!="/metrics"'
            requests = value(f"sum(increase(f1_http_requests_total{{{where}}}[{window}]))")
            errors = value(
                f'sum(increase(f1_http_requests_total{{{where},status=~"5.."}}[{window}]))'
            )
            p95 = value(
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(f1_http_request_seconds_bucket{{{where}}}[{window}])))"
            )
            return Metrics(requests or 0.0, errors or 0.0, None if p95 is None else p95 * 1000)

        return decide(metrics("stable"), metrics("canary"), limits)
