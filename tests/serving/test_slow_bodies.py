"""Issue 34 (2): slow bodies cannot take the admission slots. A body is read before its request
is admitted, at a minimum rate (a client sending a byte now and then gets 408 and is cut off),
and readiness says when every slot has been busy too long. Through a running server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from apps.recipes import seed
from serving.inputs import SlowBody, read_body
from serving.settings import ServiceSettings
from tests.serving.test_capacity import _login, _wait, _writes_blocked
from tests.serving.test_voting import LiveServer

SLOW = (
    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n{"
)


def _settings(engine: Engine, **values: Any) -> ServiceSettings:
    url = engine.url.render_as_string(hide_password=False)
    return ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False, **values)


def test_a_body_trickling_in_is_cut_at_the_minimum_rate() -> None:
    """The rule itself, on a clock the test moves: 5 s for the first bytes, then a second more
    per 1,000 bytes received."""
    now = [0.0]
    arrivals = [(1.0, b"x" * 3000), (7.5, b"x" * 10), (9.0, b"x")]  # (when, bytes)

    async def receive() -> dict[str, Any]:
        when, chunk = arrivals.pop(0)
        now[0] = when
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def trickle() -> None:
        await read_body(receive, wait_s=5.0, min_rate=1000, clock=lambda: now[0])

    # 3,000 bytes by 1 s allow 8 s; 7.5 s is in time (3,010 bytes: 8.01 s); the byte of 9 s is
    # late (here the clock only moves when bytes arrive; a real wait is cut at 8.01 s)
    with pytest.raises(SlowBody, match="3,011 bytes in 9.0 s"):
        asyncio.run(trickle())

    async def whole() -> bytes | None:
        parts = [b"ab", b"cd"]

        async def arriving() -> dict[str, Any]:
            return {"type": "http.request", "body": parts.pop(0), "more_body": bool(parts)}

        return await read_body(arriving)

    assert asyncio.run(whole()) == b"abcd"


def test_slow_bodies_do_not_hold_the_admission_slots(migrated: Engine) -> None:
    seed(migrated)
    settings = _settings(migrated, max_inflight=2, body_wait_s=1.0, body_min_rate=1000)
    with LiveServer(settings) as base:
        port = int(base.rsplit(":", 1)[1])
        attackers = []
        for _ in range(8):  # four times the slots, each sending one byte of 100,000
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(SLOW)
            attackers.append(conn)
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(5):  # while they trickle, everyone else is served
                assert client.get("/api/v1/recipes/1").status_code == 200
            assert client.get("/ready").json()["database"] == "ok"
        for conn in attackers:
            conn.settimeout(10)
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                part = conn.recv(4096)
                if not part:
                    break
                answer += part
            conn.close()
            assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
            assert b"request body too slow: 1 bytes" in answer


def test_readiness_reports_every_slot_busy_for_too_long(migrated: Engine) -> None:
    settings = _settings(migrated, threads=2, max_inflight=2, starved_after_s=0.3)
    server = LiveServer(settings)
    stuck: list[int] = []
    with server as base, httpx.Client(base_url=base, timeout=20) as client:
        assert client.get("/ready").json().get("admission") is None
        with _writes_blocked(migrated):
            workers = [threading.Thread(target=_login, args=(base, stuck)) for _ in range(2)]
            for worker in workers:
                worker.start()
            layers = server.app.state.platform.layers
            _wait(lambda: layers["admission"].inflight == 2, "admitted both sign-ins")
            time.sleep(0.4)
            ready = client.get("/ready")
            assert ready.status_code == 503, ready.text
            assert ready.json()["admission"].startswith("every one of 2 admission slots busy")
        for worker in workers:
            worker.join(timeout=60)
        _wait(lambda: layers["admission"].inflight == 0, "finished")
        assert client.get("/ready").json().get("admission") is None
