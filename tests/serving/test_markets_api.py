"""The race prediction's markets (`markets=true`) and the championship odds over HTTP, on the
real warehouse (SQLite and PostgreSQL) with the session registry's real models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from pipelines.markets import store_odds
from serving.app import create_app
from serving.settings import ServiceSettings
from warehouse.schema import ChampionshipOdds

SECRET = "test-secret-" + "m" * 40


@pytest.fixture
def api(registry: dict, history: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for key, value in registry["env"].items():
        monkeypatch.setenv(key, value)
    for name in ("f1_order_pre_quali", "f1_order_post_quali", "f1_winner_pre_quali"):
        registry["set_aliases"](name, "1", None)
    registry["set_aliases"]("f1_winner_post_quali", "2", None)
    url = history.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret=SECRET, ab_share=0.0)
    with TestClient(create_app(settings)) as client:
        yield client
    with history.begin() as connection:
        connection.execute(delete(ChampionshipOdds))


def test_the_race_prediction_gains_every_market_on_request(api: TestClient) -> None:
    plain = api.get("/api/v1/predictions/2024/24", params={"stage": "post_quali"})
    assert plain.status_code == 200 and plain.json()["order_model"] is None
    assert all(e["markets"] is None for e in plain.json()["predictions"])
    response = api.get(
        "/api/v1/predictions/2024/24", params={"stage": "post_quali", "markets": "true"}
    )
    assert response.status_code == 200 and response.headers["x-model-version"] == "2"
    body = response.json()
    assert body["order_model"] == {"name": "f1_order_post_quali", "version": "1",
                                   "alias": "champion"}  # fmt: skip
    entries = body["predictions"]
    n = len(entries)
    assert n == 20 and sum(e["probability"] for e in entries) == pytest.approx(1, abs=1e-9)
    for entry in entries:
        m = entry["markets"]
        assert len(m["positions"]) == n
        assert sum(m["positions"]) + m["dnf"] == pytest.approx(1, abs=1e-6)
        # P(finishes 1st) from 20,000 simulated orders fitted to the winner model's P(win)
        assert m["positions"][0] == pytest.approx(entry["probability"], abs=0.01)
        assert entry["probability"] <= m["podium"] + 1e-9 <= m["top6"] + 2e-9 <= m["points"] + 3e-9
        assert 0 <= m["teammate_ahead"] <= 1
    # the same as plain, but for the markets: the win probabilities are the winner model's
    assert [e["probability"] for e in entries] == [
        e["probability"] for e in plain.json()["predictions"]
    ]
    for k in range(n):  # every place is someone's, unless the car in it was not classified
        assert sum(e["markets"]["positions"][k] for e in entries) <= 1 + 1e-6
    again = api.get(
        "/api/v1/predictions/2024/24", params={"stage": "post_quali", "markets": "true"}
    )
    assert again.content == response.content  # answered from the cache
    assert api.get("/api/v1/predictions/2024/24", params={"markets": "maybe"}).status_code == 422


def test_championship_odds_as_of_each_stored_round(api: TestClient, history: Any) -> None:
    missing = api.get("/api/v1/championship/2024")
    assert missing.status_code == 404
    assert "f1 championship 2024 --store" in missing.json()["detail"]
    points = {"driver": {"max_verstappen": 331.0, "norris": 279.0}, "constructor": {}}
    for after, leader in ((20, 0.93), (21, 0.97)):
        odds = {
            "season": 2024,
            "after_round": after,
            "seasons": 10_000,
            "computed_at": f"2024-11-{after:02d}T12:00:00+00:00",
            "models": {
                "winner": {"name": "f1_winner_pre_quali", "version": "1"},
                "order": {"name": "f1_order_pre_quali", "version": "1"},
            },
            "drivers": [
                {"id": "norris", "p_title": round(1 - leader, 2), "expected_points": 380.0},
                {"id": "max_verstappen", "p_title": leader, "expected_points": 430.0},
            ],
            "constructors": [{"id": "mclaren", "p_title": 1.0, "expected_points": 660.0}],
        }
        store_odds(history, odds, points)
    body = api.get("/api/v1/championship/2024").json()
    assert [r["after_round"] for r in body["rounds"]] == [20, 21]
    last = body["rounds"][1]
    assert [(d["id"], d["name"], d["p_title"]) for d in last["drivers"]] == [
        ("max_verstappen", "Max Verstappen", 0.97),
        ("norris", "Lando Norris", 0.03),
    ]
    assert last["drivers"][0]["points"] == 331.0
    assert last["constructors"][0]["name"] == "McLaren" and last["seasons"] == 10_000
    assert last["winner_model"] == "f1_winner_pre_quali@1"
    one = api.get("/api/v1/championship/2024", params={"after_round": 20}).json()
    assert [r["after_round"] for r in one["rounds"]] == [20]
    assert one["rounds"][0]["drivers"][0]["p_title"] == 0.93
    assert api.get("/api/v1/championship/2024", params={"after_round": 5}).status_code == 404
    assert api.get("/api/v1/championship/1900").status_code == 422
    assert api.get("/api/v1/championship/2024", params={"after_round": -1}).status_code == 422
