"""The JSON client rides out 429s, 5xx, timeouts and bad bodies, and gives up clearly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.http import ApiError, JsonClient, RateLimiter, RetryPolicy
from tests.servers.base import Fault, LocalServer
from tests.servers.fixtures import FAST


def _echo(path: str, query: dict[str, str]) -> tuple[int, object]:
    if path == "/missing":
        return 404, {"detail": "Not found."}
    return 200, {"path": path, "query": query}


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with LocalServer(_echo) as s:
        yield s


def _client(server: LocalServer, attempts: int = 6, timeout_s: float = 5.0) -> JsonClient:
    policy = RetryPolicy(attempts=attempts, backoff_s=FAST.backoff_s, max_backoff_s=0.05)
    return JsonClient(server.url, limiter=RateLimiter(1000), policy=policy, timeout_s=timeout_s)


def test_every_transient_fault_is_retried_and_counted(server: LocalServer) -> None:
    server.faults = [Fault("429", retry_after="1"), Fault("500"), Fault("truncate"), Fault("html")]
    client = _client(server)
    assert client.get_json("a", {"limit": 100}) == {"path": "/a", "query": {"limit": "100"}}
    assert client.stats.requests == 5
    assert dict(client.stats.retries) == {"429": 1, "500": 1, "bad json": 1, "html": 1}
    assert client.stats.backoff_s >= 1.0  # honoured Retry-After: 1


def test_a_slow_answer_times_out_and_is_retried(server: LocalServer) -> None:
    server.faults = [Fault("slow", delay_s=1.5)]
    client = _client(server, timeout_s=0.5)
    assert client.get_json("b")["path"] == "/b"
    assert dict(client.stats.retries) == {"timeout": 1}


def test_it_gives_up_after_the_attempts_naming_the_endpoint(server: LocalServer) -> None:
    server.faults = [Fault("html") for _ in range(3)]
    client = _client(server, attempts=3)
    with pytest.raises(
        ApiError,
        match=r"GET http://127\.0\.0\.1:\d+/c\?offset=5: html: body "
        r"is not JSON .* \(gave up after 3 attempts\)",
    ):
        client.get_json("c", {"offset": 5})
    assert client.stats.requests == 3


def test_a_client_error_is_not_retried(server: LocalServer) -> None:
    client = _client(server)
    with pytest.raises(ApiError, match="HTTP 404"):
        client.get_json("missing")
    assert client.stats.requests == 1


class FakeClock:
    """Time that moves only when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@settings(max_examples=200, deadline=None)
@given(
    per_second=st.integers(1, 6),
    per_hour=st.integers(1, 40),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=80),
)
def test_the_limiter_never_exceeds_either_window(
    per_second: int, per_hour: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second, per_hour, clock=clock, sleep=clock.sleep)
    sent = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        sent.append(clock.now)
    for i, t in enumerate(sent):
        assert sum(1 for u in sent[: i + 1] if t - u < 1.0) <= per_second
        assert sum(1 for u in sent[: i + 1] if t - u < 3600) <= per_hour
    assert limiter.waited_s >= 0
