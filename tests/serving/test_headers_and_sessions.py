"""Issue 34 (low): security headers on every answer (no framing by the other UIs of the host),
Vary and Cache-Control where a page and its htmx fragment share a URL, a 405 naming every
method, sign-out revoking the token at once, the role read from the user row on each request,
and reading an election's results recorded once per admin. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings
from warehouse.schema import AuditEntry, User

PASSWORD = "correct horse battery"


def _client(engine: Engine) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    return TestClient(
        create_app(ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False))
    )


def _login(api: TestClient, email: str) -> dict[str, str]:
    answer = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_every_answer_forbids_framing_and_sniffing(migrated: Engine) -> None:
    with _client(migrated) as api:
        page, data, refused = (
            api.get("/signin"),
            api.get("/api/v1/recipes"),
            api.get("/api/v1/recipes?x=1"),
        )
        docs = api.get("/docs")
    for answer in (page, data, refused, docs):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    script = re.search(r"script-src ([^;]+)", page.headers["content-security-policy"])
    assert script is not None and "'unsafe-inline'" not in script.group(1)
    assert data.headers["content-security-policy"].startswith("default-src 'none'")
    assert "HX-Request" in page.headers["vary"] and "private" in page.headers["cache-control"]
    assert "vary" not in data.headers or "HX-Request" not in data.headers["vary"]


def test_a_405_names_every_method_of_the_path(migrated: Engine) -> None:
    with _client(migrated) as api:
        api_answer = api.post("/api/v1/recipes/1")
        page_answer = api.put("/signin")
    assert api_answer.status_code == 405
    assert set(api_answer.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
    assert page_answer.status_code == 405
    assert set(page_answer.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_sign_out_revokes_the_token_and_the_role_is_the_rows(migrated: Engine) -> None:
    create_user(migrated, "chair@example.org", PASSWORD, "admin")
    with _client(migrated) as api:
        bearer = _login(api, "chair@example.org")
        assert api.get("/api/v1/users", headers=bearer).status_code == 200
        assert api.post("/api/v1/auth/logout", headers=bearer).status_code == 204
        gone = api.get("/api/v1/users", headers=bearer)
        assert gone.status_code == 401 and "signed out" in gone.json()["detail"]
        # the web session's token: after the sign-out it is no bearer either
        form = api.get("/signin").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)  # type: ignore[union-attr]
        body = {"email": "chair@example.org", "password": PASSWORD, "csrf": csrf}
        api.post("/signin", data=body, follow_redirects=False)
        session = api.cookies.get("f1_session")
        as_bearer = {"Authorization": f"Bearer {session}"}
        assert session and api.get("/api/v1/users", headers=as_bearer).status_code == 200
        home = api.get("/").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', home).group(1)  # type: ignore[union-attr]
        assert api.post("/signout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        after = api.get("/api/v1/users", headers=as_bearer)
        assert after.status_code == 401
        # a role changed in the database, no token version moved: refused at the next request
        fresh = _login(api, "chair@example.org")
        with migrated.begin() as connection:
            connection.execute(update(User).values(role="viewer"))
        assert api.get("/api/v1/users", headers=fresh).status_code == 403


def test_reading_results_is_recorded_once_per_admin(migrated: Engine) -> None:
    create_user(migrated, "chair@example.org", PASSWORD, "admin")
    with _client(migrated) as api:
        admin = _login(api, "chair@example.org")
        body = {"title": "PTA", "positions": [{"title": "Chair", "candidates": [{"name": "A"}]}]}
        election = api.post("/api/v1/voting/elections", json=body, headers=admin).json()["id"]
        roll = {**admin, "Content-Type": "text/csv"}
        api.post(
            f"/api/v1/voting/elections/{election}/members", content="email\na@b.org\n", headers=roll
        )
        for step in ("open", "close"):
            assert api.post(f"/api/v1/voting/elections/{election}/{step}", headers=admin).is_success
        for _ in range(3):
            assert api.get(f"/api/v1/voting/elections/{election}/results", headers=admin).is_success
    with migrated.connect() as connection:
        reads = connection.scalar(
            select(func.count()).where(
                AuditEntry.action == "results", AuditEntry.election_id == election
            )
        )
    assert reads == 1
