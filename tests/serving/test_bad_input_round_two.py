"""Issue 34 (4, 5): the ways past the input check, each a 500 on PostgreSQL before. Two
Content-Type headers, a URL-encoded NUL (`%00`) in a form, a multipart file that is not UTF-8
(or holds a NUL), 1e400 in JSON, an infinite ingredient quantity, a title whose slug outgrows
its column, an election's texts past their columns and a ballot id past any integer: each a
4xx naming what was wrong, nothing written. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from apps.tokens import sign
from apps.voting import audience
from tests.serving.test_bad_input import (
    NEW_RECIPE,
    PASSWORD,
    _counts,
    _election,
    service_client,
)
from warehouse.schema import Member

JSON = "application/json"


@pytest.fixture
def api(migrated: Engine) -> Iterator[Any]:
    with service_client(migrated) as client:
        yield client


def _csrf(client: TestClient, page: str) -> str:
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(page).text)
    assert token is not None
    return token.group(1)


def test_two_content_types_are_refused(api: Any) -> None:
    """The check read the last Content-Type and FastAPI the first: JSON holding an escaped NUL
    got through as text. Two of them are refused."""
    before = _counts(api.engine)
    body = '{"title": "A\\u0000B", "steps": ["x"]}'
    bearer = ("authorization", api.admin["Authorization"])
    one = api.post("/api/v1/recipes", content=body, headers=[bearer, ("content-type", JSON)])
    assert one.status_code == 422 and "U+0000" in one.text  # the NUL is seen, as JSON
    twice = api.post(
        "/api/v1/recipes",
        content=body,
        headers=[bearer, ("content-type", JSON), ("content-type", "text/plain")],
    )
    assert twice.status_code == 422, twice.text
    assert twice.json()["detail"][0]["loc"] == ["header", "content-type"]
    assert "given 2 times" in twice.json()["detail"][0]["msg"]
    assert _counts(api.engine) == before


def test_a_url_encoded_nul_in_a_form_is_seen(api: Any) -> None:
    form = {"email": "a%00b%40x.org", "password": "x", "csrf": _csrf(api, "/signin")}
    body = "&".join(f"{k}={v}" for k, v in form.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = api.post("/signin", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "email"]
    election = _election(api)
    for step in ("code", "verify"):
        fields = {"email": "x%00y%40example.org", "code": "123456", "csrf": _csrf(api, "/signin")}
        posted = api.post(
            f"/voting/{election}/{step}",
            content="&".join(f"{k}={v}" for k, v in fields.items()),
            headers=headers,
        )
        assert posted.status_code == 422, (step, posted.text)


def test_a_multipart_file_must_be_utf8_text_without_controls(api: Any) -> None:
    election = _election(api)
    admin_cookie = api.post(
        "/api/v1/auth/login", json={"email": "chair@example.org", "password": PASSWORD}
    )
    assert admin_cookie.status_code == 200
    before = _counts(api.engine)
    for content, problem in (
        (b"email,name\na@example.org,\xff\xfe\n", "not UTF-8"),
        (b"email,name\na@example.org,A\x00\n", "line 2 holds a control character (U+0000)"),
    ):
        answer = api.post(
            f"/voting/{election}/electorate",
            files={"file": ("roll.csv", content, "text/csv")},
            data={"csrf": "whatever"},
        )
        assert answer.status_code == 422, answer.text
        assert problem in answer.json()["detail"][0]["msg"]
        assert answer.json()["detail"][0]["loc"] == ["body", "file"]
    assert _counts(api.engine) == before


def test_numbers_past_infinity_and_texts_past_their_columns(api: Any) -> None:
    for path, body in (
        ("/api/v1/predictions/what-if", b'{"season": 1e400, "round": 1, "grid": []}'),
        ("/api/v1/auth/login", b'{"email": "a@example.org", "password": 1e400}'),
        ("/api/v1/auth/register", b'{"email": "a@example.org", "password": -1e400}'),
        ("/api/v1/voting/elections/1/sign-in/verify", b'{"email": "a@b.org", "code": 1E999}'),
    ):
        answer = api.post(path, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, (path, answer.text)
        assert "out of range for a number" in answer.json()["detail"][0]["msg"]
    infinite = {**NEW_RECIPE, "ingredients": [{"name": "flour", "quantity": "inf", "unit": "g"}]}
    answer = api.post("/api/v1/recipes", json=infinite, headers=api.admin)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "ingredients", 0, "quantity"]
    ligatures = {**NEW_RECIPE, "title": "\ufb03" * 150}  # "ﬃ": three letters in a slug
    made = api.post("/api/v1/recipes", json=ligatures, headers=api.admin)
    assert made.status_code == 201, made.text
    slug = made.json()["slug"]
    assert 0 < len(slug) <= 160 and api.get(f"/api/v1/recipes/{slug}").status_code == 200


def test_the_web_election_form_and_ballot_keep_to_the_columns(api: Any) -> None:
    signed = api.post(
        "/signin",
        data={"email": "chair@example.org", "password": PASSWORD, "csrf": _csrf(api, "/signin")},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    before = _counts(api.engine)
    form = {"title": "T" * 301, "positions": "Chair: Ana", "csrf": _csrf(api, "/voting")}
    answer = api.post("/voting", data=form)
    assert answer.status_code == 422 and "at most 200" in answer.text
    form = {"title": "Board", "positions": "C" * 130 + ": Ana", "csrf": _csrf(api, "/voting")}
    answer = api.post("/voting", data=form)
    assert answer.status_code == 422 and "at most 120" in answer.text
    assert _counts(api.engine) == before
    election = _election(api)
    roll = {**api.admin, "Content-Type": "text/csv"}
    members = f"/api/v1/voting/elections/{election}/members"
    assert api.post(members, content="email\nv@example.org\n", headers=roll).status_code == 200
    assert api.post(f"/api/v1/voting/elections/{election}/open", headers=api.admin).is_success
    with api.engine.connect() as connection:
        member = connection.scalar(select(Member.id).where(Member.election_id == election))
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    claims = {"sub": str(member), "aud": audience(election), "scope": "ballot", "exp": expires}
    api.cookies.set(f"f1_voter_{election}", sign(claims, "s" * 40), path=f"/voting/{election}")
    huge = {"position-99999999999999999999": "1", "csrf": _csrf(api, "/signin")}
    answer = api.post(f"/voting/{election}/ballot", data=huge, follow_redirects=False)
    assert answer.status_code == 422 and "no such position or candidate" in answer.text
    assert api.get(f"/voting/{election}/ballot").status_code == 200  # the voter is signed in
