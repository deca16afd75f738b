"""Issue 34 (1): one request can never hold the database. A list parameter repeated hundreds of
times is refused before any query (it made PostgreSQL plan for minutes); repeats within the
bound are deduplicated; and every statement the service runs has a time limit (PostgreSQL's
statement_timeout, a progress handler on SQLite), past which the request gets 503 with
Retry-After and the connection serves the next request. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from apps.recipes import seed
from serving.app import create_app
from serving.auth import create_user
from serving.inputs import MAX_QUERY, MAX_REPEATS
from serving.settings import ServiceSettings
from warehouse.db import make_engine, timed_out

PASSWORD = "correct horse battery"


def _service(engine: Engine, **settings: Any) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    return TestClient(
        create_app(
            ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False, **settings)
        )
    )


def test_a_repeated_list_parameter_is_refused_or_deduplicated(migrated: Engine) -> None:
    seed(migrated)
    with _service(migrated) as api:
        flood = api.get("/api/v1/recipes", params=[("tag", "vegan")] * 300)
        assert flood.status_code == 422
        error = flood.json()["detail"][0]
        assert error["loc"] == ["query", "tag"] and str(MAX_REPEATS) in error["msg"]
        once = api.get("/api/v1/recipes", params={"tag": "vegan", "limit": 100}).json()
        repeated = api.get(
            "/api/v1/recipes", params=[("tag", "vegan")] * MAX_REPEATS + [("limit", "100")]
        ).json()
        assert repeated == once and once["total"] > 0
        both = api.get("/api/v1/recipes", params=[("tag", "vegan"), ("tag", "gluten-free")] * 8)
        assert {"vegan", "gluten-free"} <= set(both.json()["items"][0]["dietary_tags"])
        long = api.get("/api/v1/recipes", params={"q": "x" * 90, "region": "y" * (MAX_QUERY)})
        assert long.status_code == 422 and long.json()["detail"][0]["loc"] == ["query"]
        many = api.get("/api/v1/recipes", params={f"p{i}": "1" for i in range(40)})
        assert many.status_code == 422 and "at most 32" in many.json()["detail"][0]["msg"]


def test_a_statement_past_its_time_limit_is_cancelled(migrated: Engine) -> None:
    """The engine's own limit: a statement that would run for ever is cancelled, the error
    says so, and the connection answers the next statement."""
    url = migrated.url.render_as_string(hide_password=False)
    engine = make_engine(url, statement_timeout_s=0.2)
    counting = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
    forever = (
        "SELECT pg_sleep(30)"
        if engine.dialect.name == "postgresql"
        else f"{counting} SELECT count(*) FROM n"
    )
    with engine.connect() as connection:
        try:
            connection.execute(text(forever))
        except Exception as error:  # noqa: BLE001  # what kind it is, is the point
            assert timed_out(error), error
        else:
            raise AssertionError("the statement was not cancelled")
        connection.rollback()
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_a_request_held_behind_a_lock_gets_503_and_others_go_on(migrated: Engine) -> None:
    """A request whose statement waits behind another session (PostgreSQL: a lock on the
    table it reads; SQLite: a write transaction, for a write) is cut at the limit with 503
    and Retry-After instead of waiting; the service answers the next request."""
    seed(migrated)
    create_user(migrated, "chef@example.org", PASSWORD, "editor")
    postgres = migrated.dialect.name == "postgresql"
    with _service(migrated, statement_timeout_s=0.5) as api:
        token = api.post(
            "/api/v1/auth/login", json={"email": "chef@example.org", "password": PASSWORD}
        ).json()["access_token"]
        editor = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/v1/recipes/1").status_code == 200
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with migrated.connect() as connection:
                if postgres:
                    connection.execute(text("LOCK TABLE recipes IN ACCESS EXCLUSIVE MODE"))
                else:
                    connection.execute(text("UPDATE recipes SET servings = servings"))
                holding.set()
                release.wait(30)
                connection.rollback()

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(30)
            if postgres:
                stuck = api.get("/api/v1/recipes/2")  # not asked before: not kept
                assert stuck.status_code == 503, stuck.text
                assert "longer than 0.5 s" in stuck.json()["detail"]
            else:  # readers never wait for a writer in WAL mode; a second writer does
                stuck = api.patch("/api/v1/recipes/1", json={"servings": 3}, headers=editor)
                assert stuck.status_code == 503, stuck.text
                assert "busy writing" in stuck.json()["detail"]
            assert int(stuck.headers["Retry-After"]) >= 1
        finally:
            release.set()
            holder.join()
        assert api.get("/api/v1/recipes/1").status_code == 200
        again = api.patch("/api/v1/recipes/1", json={"servings": 3}, headers=editor)
        assert again.status_code == 200 and again.json()["servings"] == 3


def test_every_request_statement_has_the_limit(history: Engine) -> None:
    """On the whole history a request's statements take milliseconds: with a limit of 1 ms
    they are cut (503, Retry-After, the limit named), with the default they are answered."""
    with _service(history, statement_timeout_s=0.001) as api:
        cut = api.get("/api/v1/drivers", params={"season": 2024})
        assert cut.status_code == 503 and "longer than 0.001 s" in cut.json()["detail"]
        assert "Retry-After" in cut.headers
        assert api.get("/health").status_code == 200
    with _service(history) as api:
        assert api.get("/api/v1/drivers", params={"season": 2024}).status_code == 200
