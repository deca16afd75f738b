"""Who may do what in the prediction API: tokens missing, forged, expired or of the wrong role;
registration, sign-in and its throttle; an admin moving the served model (SQLite and
PostgreSQL, real models from the session registry)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from serving.served import arm
from tests.serving.api_session import PASSWORD, SECRET, api
from tests.serving.api_session import bearer as _bearer
from tests.serving.api_session import token as _token

__all__ = ["api"]  # the fixture, used by name


def test_tokens_missing_forged_expired_and_roles(api: TestClient, history: Any) -> None:
    assert api.post("/api/v1/models/reload").status_code == 401
    now = dt.datetime.now(dt.UTC)
    forged = jwt.encode({"sub": "1", "role": "admin", "exp": now + dt.timedelta(hours=1)}, "x" * 40)
    response = api.post("/api/v1/models/reload", headers=_bearer(forged))
    assert response.status_code == 401 and response.json()["detail"] == "invalid token"
    expired = jwt.encode(
        {"sub": "1", "role": "admin", "exp": now - dt.timedelta(seconds=5)}, SECRET
    )
    response = api.post("/api/v1/models/reload", headers=_bearer(expired))
    assert response.status_code == 401 and response.json()["detail"] == "token expired"
    viewer = _token(api, history, "viewer")
    response = api.post("/api/v1/models/reload", headers=_bearer(viewer))
    assert response.status_code == 403 and "admin" in response.json()["detail"]
    assert (
        api.get("/api/v1/export/race-results?season=2024", headers=_bearer(viewer)).status_code
        == 403
    )
    admin = _token(api, history, "admin")
    reloaded = api.post("/api/v1/models/reload", headers=_bearer(admin)).json()
    assert reloaded["models"]["post_quali"] == {"champion": "1", "challenger": "2"}


def test_register_login_and_throttle(api: TestClient) -> None:
    email = "fan@example.org"
    created = api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 202 and created.json()["email"] == email
    again = api.post("/api/v1/auth/register", json={"email": email, "password": "another-pass"})
    assert (again.status_code, again.json()) == (202, created.json())  # nothing revealed
    short = api.post("/api/v1/auth/register", json={"email": "a@b.c", "password": "short"})
    assert short.status_code == 422
    token = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    claims = jwt.decode(token["access_token"], SECRET, algorithms=["HS256"])
    assert claims["role"] == "viewer" and claims["email"] == email and claims["ver"] == 0
    api.cookies.clear()  # a stranger's client: no device cookie
    for _ in range(5):
        wrong = api.post("/api/v1/auth/login", json={"email": email, "password": "wrong-password"})
        assert wrong.status_code == 401
    refused = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 429 and "try again in 15 min" in refused.json()["detail"]
    assert 890 <= int(refused.headers["Retry-After"]) <= 900


def test_admin_promotes_and_rolls_back_the_served_model(api: TestClient, history: Any) -> None:
    admin = _bearer(_token(api, history, "admin"))
    before = api.get("/api/v1/predictions/2024/24?stage=post_quali", headers={"X-Client-Id": "a"})
    assert before.headers["X-Model-Version"] == "1" and arm("client:a", 0.1) == "champion"
    moved = api.post(
        "/api/v1/models/promote", json={"stage": "post_quali", "version": "2"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["champion"], moved.json()["previous"]) == ("2", "1")
    after = api.get("/api/v1/predictions/2024/24?stage=post_quali", headers={"X-Client-Id": "a"})
    assert after.headers["X-Model-Version"] == "2"
    back = api.post("/api/v1/models/rollback", json={"stage": "post_quali"}, headers=admin)
    assert back.status_code == 200 and back.json()["champion"] == "1"
    assert api.get("/ready").json()["champion"]["post_quali"] == "1"
    again = api.post("/api/v1/models/rollback", json={"stage": "post_quali"}, headers=admin)
    assert again.status_code == 409
    missing = api.post(
        "/api/v1/models/promote", json={"stage": "post_quali", "version": "99"}, headers=admin
    )
    assert missing.status_code == 404


def test_a_failed_reload_keeps_the_loaded_models(
    api: TestClient, history: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = _bearer(_token(api, history, "admin"))
    broken = tmp_path / "mlflow.db"
    broken.write_text("this is not a database")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{broken}")
    reloaded = api.post("/api/v1/models/reload", headers=admin).json()
    assert reloaded["models"]["post_quali"] == {"champion": "1", "challenger": "2"}
    assert "f1_winner_post_quali@champion" in reloaded["errors"]
    answer = api.get("/api/v1/predictions/2024/23?stage=post_quali", headers={"X-Client-Id": "a"})
    assert answer.status_code == 200 and answer.headers["X-Model-Version"] == "1"
