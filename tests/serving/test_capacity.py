"""Issue 18 (11): under load the service answers probes at once and refuses what it cannot take
with 503 + Retry-After, instead of queueing requests until clients time out. Through a running
server on SQLite and PostgreSQL: every worker thread is held by a request blocked on a database
lock the test holds, and then /health, /ready and the admission limit are tried."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Engine, text

from serving.capacity import MAX_RETRY_AFTER_S, retry_after
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer

THREADS, ADMITTED = 2, 4


@contextmanager
def _writes_blocked(engine: Engine) -> Iterator[None]:
    """Hold the lock a sign-in needs to count its attempt, until the block exits."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the database's one write lock
        else:
            connection.execute(text("LOCK TABLE sign_in_throttles IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()


def _login(base: str, results: list[int]) -> None:
    body = {"email": "someone@example.org", "password": "password1"}
    results.append(httpx.post(f"{base}/api/v1/auth/login", json=body, timeout=60).status_code)


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.02)


def test_probes_and_refusals_answer_while_every_thread_is_stuck(migrated: Engine) -> None:
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(
        database_url=url, jwt_secret="s" * 40, load_models=False,
        threads=THREADS, max_inflight=ADMITTED,
    )  # fmt: skip
    server = LiveServer(settings)
    stuck: list[int] = []
    with server as base, _writes_blocked(migrated):
        workers = [threading.Thread(target=_login, args=(base, stuck)) for _ in range(ADMITTED)]
        for worker in workers:
            worker.start()
        admission = _find_admission(server.app)
        _wait(lambda: admission.inflight == ADMITTED, "admitted four requests")
        # every thread is blocked (2 in the database lock, 2 waiting for a thread): the
        # probes still answer at once, on the event loop
        # the stuck sign-ins wait out a 30 s busy timeout: a probe that needed a thread would too
        with httpx.Client(base_url=base, timeout=20) as client:
            assert client.get("/health").json() == {"status": "ok"}
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.json()["database"] == "ok"  # no models
            # past the admission limit: 503 with Retry-After at once, for reads and writes
            waits = []
            for path in ("/api/v1/races?season=2024", "/api/v1/recipes"):
                refused = client.get(path)
                assert refused.status_code == 503
                detail = refused.json()["detail"]
                assert "at capacity (4 requests at once)" in detail
                waits.append(refused.headers["Retry-After"])
                assert detail.endswith(f"retry in {waits[-1]} s")  # the header and the words agree
            # the first refusal follows a second with nothing refused or served: the minimum;
            # the second may follow a second holding the first refusal (1 over none served)
            assert waits[0] == "1" and waits[1] in ("1", "2"), waits
    for worker in workers:  # the lock released: the stuck sign-ins finish, none with a 500
        worker.join(timeout=60)
    assert sorted(stuck) == [401] * ADMITTED
    assert admission.refused == 2 and admission.inflight == 0


def _find_admission(app: Any) -> Any:
    from serving.capacity import AdmissionMiddleware

    layer = app.middleware_stack
    while not isinstance(layer, AdmissionMiddleware):
        layer = layer.app
    return layer


def test_two_hundred_clients_at_once_get_answers_or_503s_never_500s(migrated: Engine) -> None:
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(
        database_url=url, jwt_secret="s" * 40, load_models=False, threads=4, max_inflight=16
    )
    paths = [
        "/api/v1/circuits",
        "/api/v1/recipes?q=pasta",
        "/api/v1/recipes?sort=-title",
        "/health",
    ]

    async def crowd(base: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            return await asyncio.gather(*(client.get(paths[i % 4]) for i in range(200)))

    with LiveServer(settings) as base:
        answers = asyncio.run(crowd(base))
    codes = Counter(a.status_code for a in answers)
    assert set(codes) <= {200, 503}, codes
    waits = [int(a.headers["Retry-After"]) for a in answers if a.status_code == 503]
    assert all(1 <= w <= MAX_RETRY_AFTER_S for w in waits), waits
    assert all(a.status_code == 200 for a in answers if a.url.path == "/health")


def test_the_wait_asked_for_follows_the_crowd() -> None:
    """Refused clients are asked to come back when their turn is likely: the last second's
    refusals over its answers, spread ±25 %, between 1 and 30 s."""
    assert retry_after(0, 0) == 1 and retry_after(3, 100) == 1  # a quiet second: 1 s
    assert retry_after(950, 100) == 10  # 1,000 clients, 100 answers a second
    assert retry_after(950, 100, draw=0.0) == 8  # 9.5 s × 0.75, rounded up
    assert retry_after(950, 100, draw=0.999) == 12  # 9.5 s × 1.25
    assert retry_after(10_000, 0) == MAX_RETRY_AFTER_S
    spread = {retry_after(950, 100, draw=d / 100) for d in range(100)}
    assert spread == set(range(8, 13))  # clients sent away together come back apart
