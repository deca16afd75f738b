"""Issue 18 (6): bad input at the boundary. A NUL byte (which PostgreSQL cannot store in text)
or another control character in a path, a query parameter, a JSON body or a CSV upload; NaN
and Infinity in JSON bodies; bidirectional overrides in emails: each is a 422 in the API's
error shape naming where, on SQLite and PostgreSQL, anonymous and as admin, and nothing is
written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings
from spec import STAGES
from warehouse.schema import Election, Member, Recipe, User

PASSWORD = "correct horse battery"
NEW_RECIPE = {
    "title": "Spaghetti Aglio e Olio",
    "description": "Garlic,\toil and\r\nchilli.",  # tab, CR and LF are fine in a body
    "pasta_type": "spaghetti",
    "region": "Campania",
    "difficulty": "easy",
    "prep_minutes": 5,
    "cook_minutes": 10,
    "servings": 2,
    "ingredients": [{"name": "spaghetti", "quantity": 200, "unit": "g"}],
    "steps": ["Cook.", "Toss."],
    "dietary_tags": ["vegan"],
}


@contextmanager
def service_client(migrated: Engine) -> Iterator[Any]:
    """The service on `migrated`, an admin's headers at `client.admin`."""
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 40, load_models=False)
    create_user(migrated, "chair@example.org", PASSWORD, "admin")
    with TestClient(create_app(settings)) as client:
        token = client.post(
            "/api/v1/auth/login", json={"email": "chair@example.org", "password": PASSWORD}
        ).json()["access_token"]
        client.admin = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
        client.engine = migrated  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def api(migrated: Engine) -> Iterator[Any]:
    with service_client(migrated) as client:
        yield client


def _election(api: Any) -> int:
    body = {"title": "PTA", "positions": [{"title": "Chair", "candidates": [{"name": "Ana"}]}]}
    created = api.post("/api/v1/voting/elections", json=body, headers=api.admin)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


ANONYMOUS = [  # (method, path, keyword arguments, the error's `loc`)
    ("GET", "/api/v1/recipes", {"params": {"q": "cacio\x00pepe"}}, ["query", "q"]),
    ("GET", "/api/v1/recipes", {"params": {"region": "Lazio\x07"}}, ["query", "region"]),
    ("GET", "/api/v1/recipes", {"params": {"tag\x00": "vegan"}}, ["query"]),
    ("GET", "/api/v1/recipes/cacio%00e-pepe", {}, ["path"]),
    ("GET", "/api/v1/drivers/max%00verstappen", {}, ["path"]),
    ("GET", "/api/v1/races", {"params": {"season": "2024\x00"}}, ["query", "season"]),
    ("GET", "/api/v1/voting/elections/1/receipts/ab%00cd", {}, ["path"]),
    ("POST", "/api/v1/auth/login",
     {"json": {"email": "chair@example.org", "password": "correct\x00horse"}},
     ["body", "password"]),
    ("POST", "/api/v1/auth/register",
     {"json": {"email": "new\x00@example.org", "password": PASSWORD}}, ["body", "email"]),
    ("POST", "/api/v1/voting/elections/1/sign-in/request",
     {"json": {"email": "a@example.org\x00"}}, ["body", "email"]),
    ("POST", "/api/v1/predictions/what-if",
     {"json": {"season": 2024, "round": 1, "grid": [{"driver_id": "ver\x00", "position": 1}]}},
     ["body", "grid", 0, "driver_id"]),
]  # fmt: skip

ADMIN = [
    ("POST", "/api/v1/recipes", {"json": {**NEW_RECIPE, "title": "Aglio\x00Olio"}},
     ["body", "title"]),
    ("POST", "/api/v1/recipes", {"json": {**NEW_RECIPE, "steps": ["ok", "\x1bbad"]}},
     ["body", "steps", 1]),
    ("POST", "/api/v1/voting/elections", {"json": {"title": "PTA\x00", "positions": []}},
     ["body", "title"]),
    ("POST", "/api/v1/models/promote",
     {"json": {"stage": "post_quali", "version": "1", "reason": "why\x00"}}, ["body", "reason"]),
    ("GET", "/api/v1/export/race-results", {"params": {"season": "2024", "format": "c\x00sv"}},
     ["query", "format"]),
    ("GET", "/api/v1/users", {"params": {"x": "\x00"}}, ["query", "x"]),
]  # fmt: skip


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.scalar(select(func.count()).select_from(t)) for t in (Recipe, Election, User)
        )


@pytest.mark.parametrize(("method", "path", "kwargs", "loc"), ANONYMOUS + ADMIN)
def test_control_characters_are_a_422_naming_where(
    api: Any, method: str, path: str, kwargs: dict[str, Any], loc: list[Any]
) -> None:
    before = _counts(api.engine)
    headers = api.admin if (method, path, kwargs, loc) in ADMIN else {}
    answer = api.request(method, path, headers=headers, **kwargs)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]  # FastAPI's validation-error shape
    assert error["loc"] == loc and error["type"] == "control_character", error
    assert "control character (U+00" in error["msg"]
    assert _counts(api.engine) == before  # nothing written


def test_a_csv_upload_with_a_nul_and_emails_with_bidi_overrides(api: Any) -> None:
    election = _election(api)
    members = f"/api/v1/voting/elections/{election}/members"
    csv_headers = {**api.admin, "Content-Type": "text/csv"}
    nul = api.post(members, content=b"email,name\na@example.org,An\x00a\n", headers=csv_headers)
    assert nul.status_code == 422
    assert nul.json()["detail"] == [
        {
            "loc": ["body"],
            "msg": "line 2 holds a control character (U+0000)",
            "type": "control_character",
        }
    ]
    bidi = api.post(
        members, content="email\nadm\u202eni@example.org\n".encode(), headers=csv_headers
    )
    assert bidi.status_code == 422
    assert "line 2" in str(bidi.json()) and "bidirectional control character (U+202E)" in str(
        bidi.json()
    )
    with api.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Member)) == 0  # none stored
    fine = api.post(members, content=b"email,name\r\na@example.org,Ana\r\n", headers=csv_headers)
    assert fine.status_code == 200 and fine.json()["added"] == 1
    register = api.post(
        "/api/v1/auth/register", json={"email": "chair\u202e@example.org", "password": PASSWORD}
    )
    assert register.status_code == 422 and "U+202E" in str(register.json())
    code = api.post(
        f"/api/v1/voting/elections/{election}/sign-in/request",
        json={"email": "a\u2066@example.org"},
    )
    assert code.status_code == 422 and "U+2066" in str(code.json())


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json_bodies(api: Any, constant: str) -> None:
    body = (
        '{"title": "Bucatini", "description": "", "pasta_type": "bucatini", "region": "Lazio",'
        ' "difficulty": "easy", "prep_minutes": 5, "cook_minutes": 10, "servings": 2,'
        f' "ingredients": [{{"name": "bucatini", "quantity": {constant}, "unit": "g"}}],'
        ' "steps": ["Cook."], "dietary_tags": []}'
    )
    headers = {**api.admin, "Content-Type": "application/json"}
    answer = api.post("/api/v1/recipes", content=body, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": ["body"], "msg": f"{constant} is not a number JSON allows", "type": "json_invalid"}
    ]
    assert _counts(api.engine)[0] == 0
    # without a content type FastAPI reads JSON too: refused alike
    bare = api.post("/api/v1/recipes", content=body, headers=api.admin)
    assert bare.status_code == 422 and constant in bare.json()["detail"][0]["msg"]


def test_ordinary_text_still_passes(api: Any) -> None:
    created = api.post("/api/v1/recipes", json=NEW_RECIPE, headers=api.admin)
    assert created.status_code == 201, created.text
    assert created.json()["description"] == NEW_RECIPE["description"]
    found = api.get("/api/v1/recipes", params={"q": "aglio"}).json()
    assert found["total"] == 1


def test_an_unknown_query_parameter_is_a_422_naming_it(api: Any) -> None:
    answer = api.get("/api/v1/recipes", params={"q": "aglio", "sort_by": "title"})
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {
            "type": "extra_forbidden",
            "loc": ["query", "sort_by"],
            "msg": "unknown query parameter 'sort_by'",
            "input": "title",
        }
    ]
    assert api.get("/api/v1/recipes", params={"q": "aglio", "sort": "title"}).status_code == 200


def test_an_unknown_stage_is_a_422_naming_the_spec_s_stages(api: Any) -> None:
    """Stages are checked by the prediction spec in code (no CHECK constraint, no regex)."""
    answer = api.get("/api/v1/predictions/2024/24", params={"stage": "race_day"})
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["query", "stage"]
    assert (
        "unknown stage 'race_day': use one of pre_quali, post_practice, post_quali" in error["msg"]
    )
    body = {"stage": "race_day", "version": "1"}
    promoted = api.post("/api/v1/models/promote", json=body, headers=api.admin)
    assert promoted.status_code == 422
    assert promoted.json()["detail"][0]["loc"] == ["body", "stage"]
    schema = api.get("/openapi.json").json()["components"]["schemas"]["Promotion"]
    assert schema["properties"]["stage"]["enum"] == list(STAGES.names)
