"""Issue 18 (8): bodies over the limit get a 413 before they are parsed, declared or chunked,
through a running server; an election's roll may be larger."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from sqlalchemy import Engine

from serving.auth import create_user
from serving.limits import MAX_BODY, MAX_ROLL
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer

PASSWORD = "correct horse battery"


def test_large_bodies_are_refused_before_parsing(migrated: Engine) -> None:
    create_user(migrated, "chair@example.org", PASSWORD, "admin")
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False)
    big = '{"email": "a@example.org", "password": "' + "x" * (2 * MAX_BODY) + '"}'

    def chunks(size: int) -> Iterator[bytes]:
        for _ in range(size // 65536):
            yield b"x" * 65536

    with LiveServer(settings) as base, httpx.Client(base_url=base, timeout=60) as client:
        declared = client.post(
            "/api/v1/auth/register", content=big, headers={"Content-Type": "application/json"}
        )
        assert declared.status_code == 413
        assert "over the limit of 1,048,576 bytes" in declared.json()["detail"]
        streamed = client.post(
            "/api/v1/auth/register",
            content=chunks(4 * MAX_BODY),
            headers={"Content-Type": "application/json"},
        )
        assert streamed.status_code == 413 and "keeps coming" in streamed.json()["detail"]
        # under the limit: an ordinary answer (a short password is a 422, not a 413)
        small = client.post(
            "/api/v1/auth/register", json={"email": "b@example.org", "password": "x"}
        )
        assert small.status_code == 422
        # the roll of an election may be larger than 1 MiB, not larger than its own limit
        token = client.post(
            "/api/v1/auth/login", json={"email": "chair@example.org", "password": PASSWORD}
        ).json()["access_token"]
        admin = {"Authorization": f"Bearer {token}"}
        body = {
            "title": "Big roll",
            "positions": [{"title": "Chair", "candidates": [{"name": "A"}, {"name": "B"}]}],
        }
        election = client.post("/api/v1/voting/elections", json=body, headers=admin).json()["id"]
        members = f"/api/v1/voting/elections/{election}/members"
        rows = "".join(f"parent{i}@example.org,Parent {i}\n" for i in range(40_000))
        roll = ("email,name\n" + rows).encode()
        assert MAX_BODY < len(roll) < MAX_ROLL
        csv_headers = {**admin, "Content-Type": "text/csv"}
        accepted = client.post(members, content=roll, headers=csv_headers)
        assert accepted.status_code == 200 and accepted.json()["added"] == 40_000
        huge = client.post(members, content=b"x" * (MAX_ROLL + 1), headers=csv_headers)
        assert huge.status_code == 413
