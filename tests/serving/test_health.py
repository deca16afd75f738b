"""/health and /ready answer from a real warehouse."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import ServiceSettings
from spec import STAGES
from warehouse.migrate import head_revision


def _client(url: str) -> TestClient:
    return TestClient(create_app(ServiceSettings(database_url=url)))


def test_health_is_ok_without_a_database() -> None:
    with _client("postgresql+psycopg://nobody@127.0.0.1:1/none") as client:
        response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_not_ready_without_a_champion(
    migrated, db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty-mlflow.db'}")
    with _client(db_url) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("not ready", "ok")
    assert body["schema_revision"] == head_revision()
    assert body["champion"] == dict.fromkeys(STAGES.names)


def test_not_ready_before_migration_says_how_to_fix(db_url: str) -> None:
    with _client(db_url) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert "run `f1 db upgrade`" in response.json()["database"]


def test_not_ready_when_the_database_is_unreachable() -> None:
    with _client("postgresql+psycopg://nobody@127.0.0.1:1/none") as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["database"].startswith("unreachable")
