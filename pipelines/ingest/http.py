"""A JSON-over-HTTP client that keeps under rate limits and rides out transient faults.

429 waits for Retry-After (or backs off); 5xx, timeouts, dropped connections, truncated or
non-JSON bodies back off exponentially with jitter for a bounded number of attempts, then fail
with a message naming the endpoint. Every request, retry and second waited is counted.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
_MIN_WAIT_S = 0.001


class ApiError(RuntimeError):
    """A request failed for good (after retries), or the service answered something unusable."""


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a request gets and how long to wait between them."""

    attempts: int = 6
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the n-th retry (1-based)."""
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class RateLimiter:
    """Sliding windows: at most `per_second` requests in any second, `per_hour` in any hour."""

    def __init__(
        self,
        per_second: float,
        per_hour: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.per_second, self.per_hour = per_second, per_hour
        self._clock, self._sleep = clock, sleep
        self._recent: deque[float] = deque()
        self.waited_s = 0.0

    def acquire(self) -> None:
        """Block until one more request fits both windows, then record it."""
        while True:
            now = self._clock()
            while self._recent and now - self._recent[0] >= 3600:
                self._recent.popleft()
            wait = 0.0
            burst = max(1, int(self.per_second))
            last_second = [t for t in self._recent if now - t < 1.0]
            if len(last_second) >= burst:
                wait = 1.0 - (now - last_second[-burst])
            if self.per_hour is not None and len(self._recent) >= self.per_hour:
                wait = max(wait, 3600 - (now - self._recent[-self.per_hour]))
            if wait <= 0:
                self._recent.append(now)
                return
            wait = max(wait, _MIN_WAIT_S)  # a rounding-sized wait would not move the clock
            self.waited_s += wait
            self._sleep(wait)


@dataclass
class RequestStats:
    """What a client did: requests sent, retries by reason, seconds spent waiting."""

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    rate_limited_s: float = 0.0  # held back by our own limiter
    backoff_s: float = 0.0  # waiting before retries (Retry-After or backoff)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        retried = ", ".join(f"{n} {why}" for why, n in sorted(self.retries.items())) or "none"
        return (
            f"{self.requests} requests, retries: {retried}; waited "
            f"{self.rate_limited_s:.1f}s on the rate limit, {self.backoff_s:.1f}s on retries"
        )


class JsonClient:
    """GET JSON from one base URL under a rate limiter and a retry policy."""

    def __init__(
        self,
        base_url: str,
        *,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
        timeout_s: float = 30.0,
        sleep: Sleep = time.sleep,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limiter, self.policy = limiter, policy or RetryPolicy()
        self.stats = RequestStats()
        self._sleep = sleep
        self._http = http or httpx.Client(timeout=timeout_s, headers={"Accept": "application/json"})

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The decoded JSON at `path`, after as many retries as the policy allows."""
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        endpoint = url + (f"?{httpx.QueryParams(params)}" if params else "")
        outcome = _Outcome()
        for attempt in range(1, self.policy.attempts + 1):
            held = self.limiter.waited_s
            self.limiter.acquire()
            self.stats.rate_limited_s += self.limiter.waited_s - held
            self.stats.requests += 1
            outcome = self._attempt(url, params)
            if not outcome.problem:
                return outcome.body
            if attempt == self.policy.attempts:
                break
            self.stats.retries[outcome.problem.split(":")[0]] += 1
            delay = outcome.retry_after
            if delay is None:
                delay = self.policy.backoff(attempt)
            log.warning("GET %s: %s; retry %d in %.1fs", endpoint, outcome.problem, attempt, delay)
            self.stats.backoff_s += delay
            self._sleep(delay)
        raise ApiError(
            f"GET {endpoint}: {outcome.problem} (gave up after {self.policy.attempts} attempts)"
        )

    def _attempt(self, url: str, params: Mapping[str, Any] | None) -> _Outcome:
        try:
            response = self._http.get(url, params=params)
        except httpx.TimeoutException:
            return _Outcome(problem="timeout")
        except httpx.TransportError as error:
            return _Outcome(problem=f"connection: {type(error).__name__}")
        if response.status_code == 429:
            return _Outcome(
                problem="429: rate limited", retry_after=_retry_after(response, self.policy)
            )
        if response.status_code >= 500:
            return _Outcome(problem=f"{response.status_code}: server error")
        if response.status_code != 200:
            raise ApiError(f"GET {response.request.url}: HTTP {response.status_code}")
        try:
            return _Outcome(body=response.json())
        except ValueError:
            head = response.text[:40].replace("\n", " ")
            kind = "html" if head.lstrip().startswith("<") else "bad json"
            return _Outcome(problem=f"{kind}: body is not JSON (starts {head!r})")


@dataclass(frozen=True)
class _Outcome:
    """One attempt: the body, or the transient problem (and the server's Retry-After)."""

    body: Any = None
    problem: str = ""
    retry_after: float | None = None


def _retry_after(response: httpx.Response, policy: RetryPolicy) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        seconds = when.timestamp() - time.time()
    return min(policy.max_retry_after_s, max(0.0, seconds))
