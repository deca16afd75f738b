"""Issue 34: the racing reads are answered from memory per published build, before admission
(no slot, no thread, no database), shared by the replicas through Redis; a new build is new
answers; with nothing published nothing is kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

import serving.reads
from feature_store.store import store_root
from pipelines.features import build_features, publish_build
from serving.app import create_app
from serving.settings import ServiceSettings
from tests.serving.test_voting import LiveServer

READS = [
    "/api/v1/races?season=2024",
    "/api/v1/races/2024/24",
    "/api/v1/drivers?season=2024",
    "/api/v1/drivers/norris",
    "/api/v1/teams?season=2024",
    "/api/v1/circuits",
    "/api/v1/analytics/driver-rankings?season=2024&limit=5",
]


def _settings(engine: Engine, **values: Any) -> ServiceSettings:
    url = engine.url.render_as_string(hide_password=False)
    return ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False, **values)


@pytest.fixture
def built(history: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("F1_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(serving.reads, "BUILD_CHECK_S", 0.0)  # see a new build at once
    publish_build(build_features(history, store_root()), store_root())
    return history


def _queries(engine: Engine) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    return seen, record


def test_a_read_is_kept_for_its_build(built: Engine) -> None:
    with TestClient(create_app(_settings(built))) as api:
        engine = api.app.state.platform.engine  # type: ignore[attr-defined]
        first = {path: api.get(path) for path in READS}
        assert all(a.status_code == 200 and "x-cache" not in a.headers for a in first.values())
        seen, record = _queries(engine)
        event.listen(engine, "before_cursor_execute", record)
        try:
            again = {path: api.get(path) for path in READS}
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert seen == []  # not one query
        for path in READS:
            assert again[path].headers["x-cache"] == "hit"
            assert again[path].content == first[path].content
        # the same query in another order is the same answer
        swapped = api.get("/api/v1/analytics/driver-rankings?limit=5&season=2024")
        assert swapped.headers.get("x-cache") == "hit"
        # refusals are not kept: an unknown parameter stays a 422
        assert api.get("/api/v1/circuits?x=1").status_code == 422
        assert api.get("/api/v1/circuits?x=1").status_code == 422
        # a new build: new answers
        publish_build(build_features(built, store_root()), store_root())
        fresh = api.get("/api/v1/circuits")
        assert fresh.status_code == 200 and "x-cache" not in fresh.headers


def test_nothing_is_kept_without_a_published_build(
    history: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("F1_HOME", str(tmp_path / "empty"))
    with TestClient(create_app(_settings(history))) as api:
        for _ in range(2):
            answer = api.get("/api/v1/circuits")
            assert answer.status_code == 200 and "x-cache" not in answer.headers


def test_replicas_share_the_reads_through_redis(built: Engine) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but TEST_REDIS_URL is not")
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    redis.Redis.from_url(url).flushdb()
    with (
        TestClient(create_app(_settings(built, redis_url=url))) as one,
        TestClient(create_app(_settings(built, redis_url=url))) as two,
    ):
        assert "x-cache" not in one.get("/api/v1/races?season=2024").headers
        shared = two.get("/api/v1/races?season=2024")  # never asked of this replica
        assert shared.headers["x-cache"] == "hit"


def test_many_clients_at_once_are_answered_from_memory_without_refusals(built: Engine) -> None:
    """Four admission slots, 200 clients reading at once: once each read is known, none is
    refused (a hit takes no slot)."""
    with LiveServer(_settings(built, max_inflight=4)) as base:
        for path in READS:
            assert httpx.get(f"{base}{path}", timeout=60).status_code == 200

        async def crowd() -> Counter[int]:
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                answers = await asyncio.gather(
                    *(client.get(READS[i % len(READS)]) for i in range(1000))
                )
            return Counter(a.status_code for a in answers)

        assert asyncio.run(crowd()) == {200: 1000}


def test_a_cold_read_asked_by_many_at_once_is_computed_once(built: Engine) -> None:
    """Nothing known yet (a cold start, a new build): 300 clients ask the same six reads at
    once on 6 admission slots. Each read is computed once (the one answer without
    `x-cache: hit`); the other 294 wait for its answer instead of asking for a slot (each
    asking: 294 refusals), so none is refused."""
    with LiveServer(_settings(built, max_inflight=6)) as base:

        async def crowd() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=300)
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                return list(await asyncio.gather(*(client.get(READS[i % 6]) for i in range(300))))

        answers = asyncio.run(crowd())
    assert Counter(a.status_code for a in answers) == {200: 300}
    computed = Counter(a.request.url.path for a in answers if "x-cache" not in a.headers)
    assert sorted(computed.values()) == [1] * len({urlparse(p).path for p in READS[:6]})
    for path in READS[:6]:  # every client of a read got the same answer
        bodies = {a.content for a in answers if a.request.url.raw_path.decode() == path}
        assert len(bodies) == 1, path


# The recipe reads: kept per recipe generation, which every successful write moves on.

CHEF = "chef-cache@example.org"
CHEF_PASSWORD = "a chef's long password"


def _chef(api: Any) -> dict[str, str]:
    from serving.auth import create_user

    create_user(api.app.state.platform.engine, CHEF, CHEF_PASSWORD, "editor")
    token = api.post("/api/v1/auth/login", json={"email": CHEF, "password": CHEF_PASSWORD}).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_a_recipe_read_is_kept_until_a_recipe_is_written(migrated: Engine) -> None:
    from apps.recipes import seed

    seed(migrated)
    with TestClient(create_app(_settings(migrated))) as api:
        editor = _chef(api)
        engine = api.app.state.platform.engine  # type: ignore[attr-defined]
        paths = [
            "/api/v1/recipes/1",
            "/api/v1/recipes?tag=vegetarian",
            "/api/v1/recipes/1?servings=8",
        ]
        first = {path: api.get(path) for path in paths}
        assert all(a.status_code == 200 and "x-cache" not in a.headers for a in first.values())
        seen, record = _queries(engine)
        event.listen(engine, "before_cursor_execute", record)
        try:
            again = {path: api.get(path) for path in paths}
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert seen == []
        assert all(again[p].headers["x-cache"] == "hit" and again[p].content == first[p].content
                   for p in paths)  # fmt: skip
        # a write through the API: the writer's next read is the new recipe
        changed = api.patch("/api/v1/recipes/1", json={"servings": 3}, headers=editor)
        assert changed.status_code == 200
        after = api.get("/api/v1/recipes/1")
        assert "x-cache" not in after.headers and after.json()["servings"] == 3
        # a refused write moves nothing on
        assert api.get("/api/v1/recipes/1").headers["x-cache"] == "hit"
        refused = api.patch("/api/v1/recipes/1", json={"servings": -1}, headers=editor)
        assert refused.status_code == 422
        assert api.get("/api/v1/recipes/1").headers["x-cache"] == "hit"
        # a delete: gone at once from the list and the recipe
        assert api.delete("/api/v1/recipes/1", headers=editor).status_code == 204
        assert api.get("/api/v1/recipes/1").status_code == 404
        assert all(r["id"] != 1 for r in api.get("/api/v1/recipes?limit=100").json()["items"])


def test_a_recipe_written_outside_the_service_is_seen_within_the_bound(
    migrated: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from sqlalchemy import text

    from apps.recipes import seed

    seed(migrated)
    monkeypatch.setattr(serving.reads, "RECIPES_KEPT_S", 1)
    with TestClient(create_app(_settings(migrated))) as api:
        assert api.get("/api/v1/recipes/1").json()["servings"] == 4
        with migrated.begin() as connection:  # SQL, as `f1 recipes seed` would write
            connection.execute(text("UPDATE recipes SET servings = 6 WHERE id = 1"))
        time.sleep(1.05)
        assert api.get("/api/v1/recipes/1").json()["servings"] == 6


def test_a_recipe_written_on_one_replica_is_read_anew_on_the_other(migrated: Engine) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but TEST_REDIS_URL is not")
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    from apps.recipes import seed

    redis.Redis.from_url(url).flushdb()
    seed(migrated)
    with (
        TestClient(create_app(_settings(migrated, redis_url=url))) as one,
        TestClient(create_app(_settings(migrated, redis_url=url))) as two,
    ):
        editor = _chef(one)
        assert two.get("/api/v1/recipes/1").json()["servings"] == 4
        assert two.get("/api/v1/recipes/1").headers["x-cache"] == "hit"
        assert (
            one.patch("/api/v1/recipes/1", json={"servings": 5}, headers=editor).status_code == 200
        )
        assert two.get("/api/v1/recipes/1").json()["servings"] == 5  # the other replica


def test_reads_racing_writes_end_on_the_last_write(migrated: Engine) -> None:
    """Readers and writers at once through a running server: whatever the interleaving, once
    the writes are answered every read is the last one written (no stale answer kept)."""
    from apps.recipes import seed

    seed(migrated)
    with LiveServer(_settings(migrated)) as base:
        with TestClient(create_app(_settings(migrated))) as setup:
            editor = _chef(setup)

        async def race() -> list[int]:
            limits = httpx.Limits(max_connections=16)  # within admission's 32
            async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                writes = [
                    client.patch("/api/v1/recipes/1", json={"servings": n}, headers=editor)
                    for n in range(2, 22)
                ]
                reads = [client.get("/api/v1/recipes/1") for _ in range(60)]
                answers = await asyncio.gather(*writes, *reads)
            return [a.status_code for a in answers]

        assert set(asyncio.run(race())) == {200}
        with migrated.connect() as connection:
            from sqlalchemy import text

            stored = connection.execute(text("SELECT servings FROM recipes WHERE id = 1")).scalar()
        for _ in range(3):
            assert httpx.get(f"{base}/api/v1/recipes/1").json()["servings"] == stored


def test_a_hot_recipe_read_is_not_refused_when_its_bucket_rolls_over_at_full_admission(
    migrated: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load bench's miss: at 1,000 connections every slot is taken, the recipe answer's
    time bucket ends, and the recompute is refused (503). The same generation's earlier
    answer is given instead; a read with no earlier answer is refused with Retry-After as
    before."""
    import time

    from sqlalchemy import text

    from apps.recipes import seed

    seed(migrated)
    monkeypatch.setattr(serving.reads, "RECIPES_KEPT_S", 1)
    with TestClient(create_app(_settings(migrated, max_inflight=2))) as api:
        first = api.get("/api/v1/recipes/1")
        assert first.status_code == 200
        admission = api.app.state.platform.layers["admission"]  # type: ignore[attr-defined]
        time.sleep(1.05)  # the bucket rolls over
        admission.inflight = admission.limit  # every slot taken, as under the bench's load
        try:
            again = api.get("/api/v1/recipes/1")
            assert again.status_code == 200 and again.json() == first.json()
            unseen = api.get("/api/v1/recipes/2")  # never answered: nothing to fall back on
            assert unseen.status_code == 503 and unseen.headers["retry-after"]
        finally:
            admission.inflight = 0
        with migrated.begin() as connection:  # written outside: seen once slots free up
            connection.execute(text("UPDATE recipes SET servings = 6 WHERE id = 1"))
        time.sleep(1.05)
        assert api.get("/api/v1/recipes/1").json()["servings"] == 6
