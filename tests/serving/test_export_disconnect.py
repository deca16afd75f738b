"""Issue 18 (10): exports hold no database connection while their body is sent. Clients that
hang up mid-download, or read slowly, must not keep connections checked out ("idle in
transaction" on PostgreSQL): on SQLite and PostgreSQL, through a running server."""

from __future__ import annotations

import datetime as dt
import socket
import time
from typing import Any

import httpx
from sqlalchemy import Engine, insert, text

from serving.auth import create_user
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer
from warehouse.db import transaction
from warehouse.schema import Circuit, Driver, Prediction, Race

PASSWORD = "correct horse battery"
VERSIONS = 1500  # × 20 drivers: 30,000 rows, about 3 MB of JSON, more than socket buffers hold


def _season(engine: Engine) -> None:
    with transaction(engine) as session:
        circuit = Circuit(ref="monza", name="Monza")
        session.add(circuit)
        session.flush()
        race = Race(season=2030, round=1, circuit_id=circuit.id, name="Italian GP",
                    date=dt.date(2030, 9, 1))  # fmt: skip
        drivers = [Driver(ref=f"d{i}", forename="D", surname=f"{i}") for i in range(20)]
        session.add_all([race, *drivers])
        session.flush()
        ids = [d.id for d in drivers]
        race_id = race.id
    rows = [
        {"race_id": race_id, "driver_id": d, "stage": "post_quali", "model_name": "f1_winner",
         "model_version": str(v), "probability": 0.05}
        for v in range(VERSIONS) for d in ids
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Prediction), rows)


def _abandon(port: int, path: str, token: str) -> None:
    """Ask for an export, read its first bytes, hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        request = f"GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n"
        conn.sendall(request.encode())
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")


def _idle_in_transaction(engine: Engine) -> int:
    if engine.dialect.name != "postgresql":
        return 0
    with engine.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            )
        )


def _settled(pool: Any) -> int:
    deadline = time.monotonic() + 10  # the server notices a hang-up at its next write
    while pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(pool.checkedout())


def test_abandoned_and_slow_downloads_hold_no_connection(migrated: Engine) -> None:
    _season(migrated)
    create_user(migrated, "analyst@example.org", PASSWORD, "analyst")
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False)
    server = LiveServer(settings)
    path = "/api/v1/export/predictions?season=2030&format=json"
    with server as base, httpx.Client(base_url=base, timeout=60) as client:
        token = client.post(
            "/api/v1/auth/login", json={"email": "analyst@example.org", "password": PASSWORD}
        ).json()["access_token"]
        pool = server.app.state.platform.engine.pool
        for _ in range(40):  # more than the pool's 5 + 10 connections
            _abandon(server.port, path, token)
        assert _settled(pool) == 0
        assert _idle_in_transaction(migrated) == 0
        # a client reading slowly: its connection is back in the pool while it reads
        headers = {"Authorization": f"Bearer {token}"}
        with client.stream("GET", path, headers=headers) as slow:
            chunks = slow.iter_bytes(1024)
            first = next(chunks)
            assert pool.checkedout() == 0 and _idle_in_transaction(migrated) == 0
            rest = first + b"".join(chunks)
        assert rest.count(b'"model_version"') == VERSIONS * 20
        assert client.get("/api/v1/races", params={"season": 2030}).status_code == 200
