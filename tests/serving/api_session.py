"""The prediction API's client for its tests: the service on the shared history warehouse of
the backend (champion post_quali v1, challenger v2, A/B share 10%) and signed-in users."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


@pytest.fixture
def api(aliases, history, backend: str) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The service on the shared history warehouse of the backend; champion post_quali v1,
    challenger v2, A/B share 10%."""
    aliases(champion="1", challenger="2")
    url = history.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret=SECRET, ab_share=0.10)
    with TestClient(create_app(settings)) as client:
        yield client
    from warehouse.schema import ModelEvent, SignInThrottle, User

    with history.begin() as connection:
        for table in (ModelEvent, User, SignInThrottle):
            connection.execute(table.__table__.delete())


def token(api: TestClient, history: Any, role: str) -> str:
    email = f"{role}-{dt.datetime.now().timestamp()}@example.org"
    create_user(history, email, PASSWORD, role)
    response = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
