"""The pasta recipe app end to end, on SQLite and PostgreSQL, with real tokens. Expected
values come from the bundled seed file, read independently of the code under test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from apps.recipes import SEED, seed
from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings

BUNDLED: list[dict[str, Any]] = json.loads(SEED.read_text())
PASSWORD = "correct horse battery"


@pytest.fixture
def api(migrated) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    seed(migrated)
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret="s" * 48, load_models=False)
    with TestClient(create_app(settings)) as client:
        client.engine = migrated  # type: ignore[attr-defined]
        yield client


def _token(api: TestClient, role: str) -> dict[str, str]:
    email = f"{role}@example.org"
    create_user(api.engine, email, PASSWORD, role)  # type: ignore[attr-defined]
    answer = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _titles(page: dict[str, Any]) -> set[str]:
    return {r["title"] for r in page["items"]}


def test_seed_has_twenty_real_recipes_and_is_idempotent(migrated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert len(BUNDLED) >= 20
    assert seed(migrated) == {"inserted": len(BUNDLED), "updated": 0}
    assert seed(migrated) == {"inserted": 0, "updated": 0}
    changed = [dict(r) for r in BUNDLED]
    changed[0]["servings"] = 6
    path = tmp_path / "recipes.json"
    path.write_text(json.dumps(changed))
    assert seed(migrated, path) == {"inserted": 0, "updated": 1}
    broken = [dict(r) for r in BUNDLED] + [{**BUNDLED[0], "title": "", "slug": "x"}]
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="title"):
        seed(migrated, path)
    assert seed(migrated) == {"inserted": 0, "updated": 1}  # the broken file wrote nothing


def test_list_pages_sorts_and_counts(api: TestClient) -> None:
    seen: list[str] = []
    for offset in range(0, len(BUNDLED), 7):
        page = api.get("/api/v1/recipes", params={"limit": 7, "offset": offset}).json()
        assert page["total"] == len(BUNDLED) and page["limit"] == 7 and page["offset"] == offset
        seen += [r["slug"] for r in page["items"]]
    assert len(seen) == len(set(seen)) == len(BUNDLED)
    titles = [r["title"] for r in api.get("/api/v1/recipes?limit=100").json()["items"]]
    assert titles == sorted((r["title"] for r in BUNDLED), key=str.lower)
    backwards = api.get("/api/v1/recipes?limit=100&sort=-title").json()["items"]
    assert [r["title"] for r in backwards] == titles[::-1]
    quick = api.get("/api/v1/recipes?limit=100&sort=total_minutes").json()["items"]
    totals = [r["total_minutes"] for r in quick]
    assert totals == sorted(r["prep_minutes"] + r["cook_minutes"] for r in BUNDLED)


def test_search_and_filters(api: TestClient) -> None:
    def expected(keep: Any) -> set[str]:
        return {r["title"] for r in BUNDLED if keep(r)}

    def get(**params: Any) -> dict[str, Any]:
        answer = api.get("/api/v1/recipes", params={"limit": 100, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    by_ingredient = get(q="Guanciale")
    assert _titles(by_ingredient) == expected(
        lambda r: any("guanciale" in i["name"].lower() for i in r["ingredients"])
    )
    assert by_ingredient["total"] == 3
    assert _titles(get(q="palermo")) == {"Pasta con le Sarde"}  # in the description
    assert _titles(get(pasta_type="Spaghetti")) == expected(
        lambda r: r["pasta_type"] == "spaghetti"
    )
    assert _titles(get(region="sicily")) == expected(lambda r: r["region"] == "Sicily")
    assert _titles(get(difficulty="hard")) == expected(lambda r: r["difficulty"] == "hard")
    both = get(tag=["vegan", "gluten-free"])
    assert _titles(both) == expected(lambda r: {"vegan", "gluten-free"} <= set(r["dietary_tags"]))
    assert both["total"] == 1
    quick = get(max_minutes=20, tag="vegetarian")
    assert _titles(quick) == expected(
        lambda r: r["prep_minutes"] + r["cook_minutes"] <= 20 and "vegetarian" in r["dietary_tags"]
    )
    assert get(q="100%_")["total"] == 0  # LIKE wildcards are searched for literally
    assert api.get("/api/v1/recipes", params={"tag": "carnivore"}).status_code == 422


def test_get_by_id_or_slug_and_scale(api: TestClient) -> None:
    carbonara = api.get("/api/v1/recipes/spaghetti-alla-carbonara").json()
    assert carbonara["servings"] == 4 and carbonara["total_minutes"] == 25
    assert api.get(f"/api/v1/recipes/{carbonara['id']}").json() == carbonara
    doubled = api.get("/api/v1/recipes/spaghetti-alla-carbonara", params={"servings": 8}).json()
    quantities = {i["name"]: i["quantity"] for i in doubled["ingredients"]}
    assert quantities["spaghetti"] == 800 and quantities["egg yolks"] == 8
    assert quantities["salt"] is None  # to taste stays to taste
    third = api.get("/api/v1/recipes/cacio-e-pepe", params={"servings": 3}).json()
    assert {i["name"]: i["quantity"] for i in third["ingredients"]}[
        "tonnarelli or spaghetti"
    ] == 300
    assert api.get("/api/v1/recipes/no-such-pasta").status_code == 404
    assert api.get("/api/v1/recipes/1", params={"servings": 0}).status_code == 422


NEW = {
    "title": "Spaghetti al Pomodoro Crudo",
    "description": "Raw summer tomatoes, basil and oil.",
    "pasta_type": "spaghetti",
    "region": "Campania",
    "difficulty": "easy",
    "prep_minutes": 10,
    "cook_minutes": 10,
    "servings": 2,
    "ingredients": [{"name": "spaghetti", "quantity": 200, "unit": "g"}, {"name": "salt"}],
    "steps": ["Chop the tomatoes.", "Toss with the hot pasta."],
    "dietary_tags": ["vegan", "vegan"],
}


def test_editors_create_replace_update_delete(api: TestClient) -> None:
    assert api.post("/api/v1/recipes", json=NEW).status_code == 401
    viewer = _token(api, "viewer")
    assert api.post("/api/v1/recipes", json=NEW, headers=viewer).status_code == 403
    editor = _token(api, "editor")
    created = api.post("/api/v1/recipes", json=NEW, headers=editor)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["slug"] == "spaghetti-al-pomodoro-crudo" and body["dietary_tags"] == ["vegan"]
    assert [i["name"] for i in body["ingredients"]] == ["spaghetti", "salt"]
    again = api.post("/api/v1/recipes", json=NEW, headers=editor)
    assert again.status_code == 409 and "spaghetti-al-pomodoro-crudo" in again.json()["detail"]

    replaced = api.put(
        f"/api/v1/recipes/{body['id']}",
        json={**NEW, "servings": 4, "steps": ["One step."]},
        headers=editor,
    ).json()
    assert replaced["servings"] == 4 and replaced["steps"] == ["One step."]
    assert replaced["slug"] == body["slug"] and replaced["created_at"] == body["created_at"]
    patched = api.patch(
        "/api/v1/recipes/spaghetti-al-pomodoro-crudo",
        json={"difficulty": "medium", "dietary_tags": ["vegan", "gluten-free"]},
        headers=_token(api, "admin"),
    ).json()
    assert patched["difficulty"] == "medium" and patched["servings"] == 4
    assert patched["dietary_tags"] == ["gluten-free", "vegan"]
    assert patched["updated_at"] >= replaced["updated_at"]
    null = api.patch(f"/api/v1/recipes/{body['id']}", json={"title": None}, headers=editor)
    assert null.status_code == 422 and null.json()["detail"][0]["loc"] == ["body", "title"]
    assert api.delete(f"/api/v1/recipes/{body['id']}", headers=viewer).status_code == 403
    assert api.delete(f"/api/v1/recipes/{body['id']}", headers=editor).status_code == 204
    assert api.get(f"/api/v1/recipes/{body['id']}").status_code == 404
    assert api.delete(f"/api/v1/recipes/{body['id']}", headers=editor).status_code == 404
    assert api.get("/api/v1/recipes").json()["total"] == len(BUNDLED)


def test_bad_recipes_are_refused_naming_each_field(api: TestClient) -> None:
    editor = _token(api, "editor")
    bad = {k: v for k, v in NEW.items() if k != "title"}
    bad |= {"prep_minutes": -5, "ingredients": [], "dietary_tags": ["vegan", "paleo"]}
    answer = api.post("/api/v1/recipes", json=bad, headers=editor)
    assert answer.status_code == 422
    named = {tuple(e["loc"][1:]) for e in answer.json()["detail"]}
    assert named == {("title",), ("prep_minutes",), ("ingredients",), ("dietary_tags", 1)}
    assert api.get("/api/v1/recipes").json()["total"] == len(BUNDLED)  # nothing stored


def test_out_of_range_and_unicode_digits_are_4xx_not_500(api: TestClient) -> None:
    """Issue 18 (6), the recipe routes, on SQLite and PostgreSQL."""
    for params in ({"offset": 2**63}, {"max_minutes": 2**40}, {"offset": 2**31}):
        answer = api.get("/api/v1/recipes", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert list(params)[0] in answer.text  # the error names the parameter
    assert api.get("/api/v1/recipes", params={"offset": 2**31 - 1}).status_code == 200
    for ref in ("%C2%B2", "%D9%A3", "99999999999999999999"):  # ², Arabic-Indic 3, too large
        assert api.get(f"/api/v1/recipes/{ref}").status_code == 404, ref


@pytest.mark.parametrize("typed", ["²", "١٢", "-1", "10001", "1e3", "soon"])
def test_the_search_page_names_a_bad_number_at_its_field(api: TestClient, typed: str) -> None:
    """Issue 35: what a person may type in "At most (minutes)" or "Servings" (a superscript
    two and Arabic-Indic digits are digits to Python, not to int()): a 422 page with the
    message at the field, never a 500 or raw JSON; empty is no filter."""
    page = api.get("/recipes", params={"max_minutes": typed})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "write a whole number from 0 to 10,000, or leave it empty" in page.text
    scaled = api.get("/recipes/cacio-e-pepe", params={"servings": typed})
    assert scaled.status_code == 422 and "write a whole number from 1 to 100" in scaled.text
    empty = api.get("/recipes", params={"max_minutes": "", "q": "", "difficulty": ""})
    assert empty.status_code == 200 and "24 recipes" in empty.text
    fragment = api.get("/recipes", params={"max_minutes": typed}, headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and 'hx-swap-oob="true"' in fragment.text
    assert "Fix the highlighted field to search." in fragment.text
