"""A made-up stage and a made-up market, added through the spec's registries only (no other
code changed), reach the pipeline, the storage, the bot's mapping and pricing, the API and the
pages: the registries carry what varies."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import spec
from bot.backtest import ReplayMarket
from bot.mapping import market_kind
from bot.signals import market_probabilities
from feature_store.online import RaceRef
from pipelines.features import build_features, publish_build
from pipelines.markets import score_markets
from pipelines.score import store_predictions
from pipelines.train import train
from pipelines.train_order import train_order
from serving.app import create_app
from serving.settings import ServiceSettings
from warehouse.db import make_engine, session_factory
from warehouse.schema import Driver, MarketAccuracy, MarketPrediction, Prediction, Race

POST_QUALI = spec.stage("post_quali")
# a stage after a sprint run on the Saturday: it knows what post_quali knows (the made-up part
# is the name, its order, its title and its stored baseline)
AFTER_SPRINT = spec.Stage(
    name="after_sprint",
    order=2,
    label="after the sprint",
    title="After the sprint",
    knows="all of post_quali and the sprint",
    opens="qualifying",
    cutoff="race",
    entrants=POST_QUALI.entrants,
    feature_groups=POST_QUALI.feature_groups,
    baseline=spec.Baseline("baseline_grid_after_sprint", "grid", "the grid"),
    model=spec.StageModel(
        inputs=POST_QUALI.model.inputs[:4], baselines=("uniform", "grid"), alpha=1.0
    ),
)
TOP8 = spec.Market("top8", "top8", "finishes in the top 8", "top", top=8)


@pytest.fixture(scope="module")
def made_up(history_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A private warehouse and stores where the made-up stage's features were built and its
    winner and finishing-order models trained (2016–2024; the first versions: champions)."""
    root = tmp_path_factory.mktemp("registries")
    shutil.copy(history_file, root / "warehouse.db")
    env = {
        "F1_HOME": str(root / "home"),
        "F1_DATABASE_URL": f"sqlite:///{root / 'warehouse.db'}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    with pytest.MonkeyPatch.context() as patch, spec.STAGES.extended(AFTER_SPRINT):
        for key, value in env.items():
            patch.setenv(key, value)
        engine = make_engine()
        publish_build(build_features(engine))
        trained = [
            train(engine, AFTER_SPRINT.name, start=2016, last=2024),
            train_order(engine, AFTER_SPRINT.name, start=2016, last=2024),
        ]
    yield {"engine": engine, "env": env, "trained": trained}
    engine.dispose()


@pytest.fixture
def declared(made_up: dict, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """The made-up stage and market declared (for the test's duration) in the made-up stores."""
    for key, value in made_up["env"].items():
        monkeypatch.setenv(key, value)
    with spec.STAGES.extended(AFTER_SPRINT), spec.MARKETS.extended(TOP8):
        yield made_up


def _race(engine: Any, season: int, round_: int) -> RaceRef:
    with session_factory(engine)() as session:
        row = session.execute(
            select(Race.id, Race.season, Race.round, Race.name).where(
                Race.season == season, Race.round == round_
            )
        ).one()
    return RaceRef(*row)


def test_the_pipeline_trains_stores_and_scores_a_made_up_stage_and_market(declared: dict) -> None:
    engine = declared["engine"]
    winner, order = declared["trained"]
    assert (winner.name, winner.version) == ("f1_winner_after_sprint", "1")
    assert (order.name, order.version) == ("f1_order_after_sprint", "1")
    race = _race(engine, 2024, 24)
    stored = store_predictions(engine, race)  # only the made-up stage has models here
    assert stored == {"f1_winner_after_sprint v1": 20, "f1_order_after_sprint v1": 20}
    with session_factory(engine)() as session:
        predictions = session.scalars(
            select(Prediction).where(Prediction.race_id == race.race_id)
        ).all()
        markets = session.scalars(
            select(MarketPrediction).where(MarketPrediction.race_id == race.race_id)
        ).all()
    assert {p.stage for p in predictions} == {"after_sprint"}
    assert sum(p.probability for p in predictions) == pytest.approx(1)
    assert len(markets) == 20
    for m in markets:
        stored_markets = m.markets or {}
        # the made-up market, stored by its column beside the others, read off the positions
        assert stored_markets["top8"] == pytest.approx(sum(m.positions[:8]), abs=1e-5)
        assert m.top6 - 1e-9 <= stored_markets["top8"] <= m.points + 1e-9
        assert stored_markets["podium"] == pytest.approx(m.podium)
    score_markets(engine)
    with session_factory(engine)() as session:
        scored = set(session.scalars(select(MarketAccuracy.market)))
    assert {"top8", "win", "podium", "dnf", "position", "h2h"} <= scored


def test_the_bot_maps_prices_and_replays_the_made_up_market(declared: dict) -> None:
    engine = declared["engine"]
    question = "will lando norris finish in the top 8"
    assert market_kind("abu dhabi grand prix", question) == ("top8", None)
    race = _race(engine, 2024, 24)
    store_predictions(engine, race)
    priced = market_probabilities(engine, race.race_id, "top8", champion=lambda name: "1")
    assert priced is not None and priced.model == "f1_order_after_sprint v1"
    with session_factory(engine)() as session:
        stored = {
            ref: markets["top8"]
            for ref, markets in session.execute(
                select(Driver.ref, MarketPrediction.markets)
                .join(Driver, Driver.id == MarketPrediction.driver_id)
                .where(MarketPrediction.race_id == race.race_id)
            )
        }
    assert priced.by_driver == pytest.approx(stored)
    replay = {"market": MARKET, "market_type": "top8", "history": [{"t": 0, "p": 0.5}],
              "probability": 0.6}  # fmt: skip
    assert ReplayMarket.model_validate(replay).market_type == "top8"


def test_a_market_outside_the_registry_is_refused_by_name() -> None:
    replay = {"market": MARKET, "market_type": "top8", "history": [{"t": 0, "p": 0.5}],
              "probability": 0.6}  # fmt: skip
    with pytest.raises(ValueError, match="unknown market type 'top8'"):
        ReplayMarket.model_validate(replay)
    assert market_kind("abu dhabi grand prix", "will lando norris finish in the top 8")[0] is None


def test_the_api_and_pages_serve_the_made_up_stage_and_market(declared: dict) -> None:
    settings = ServiceSettings(database_url=declared["env"]["F1_DATABASE_URL"])
    with TestClient(create_app(settings)) as client:
        answer = client.get(
            "/api/v1/predictions/2024/24", params={"stage": "after_sprint", "markets": True}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["stage"] == "after_sprint"
        for entry in body["predictions"]:
            markets = entry["markets"]
            assert markets["top6"] - 1e-9 <= markets["top8"] <= markets["points"] + 1e-9
        page = client.get("/races/2024/24")
        assert page.status_code == 200
        assert "After the sprint" in page.text


def test_a_stage_outside_the_registry_is_refused_by_name(made_up: dict) -> None:
    settings = ServiceSettings(database_url=made_up["env"]["F1_DATABASE_URL"], load_models=False)
    with TestClient(create_app(settings)) as client:
        refused = client.get("/api/v1/predictions/2024/24", params={"stage": "after_sprint"})
    assert refused.status_code == 422
    assert "unknown stage 'after_sprint'" in refused.text


MARKET = {
    "id": "m1",
    "conditionId": "c1",
    "slug": "norris-top-8",
    "question": "Will Lando Norris finish in the top 8 at the Abu Dhabi Grand Prix?",
    "outcomes": ["Yes", "No"],
    "outcomePrices": [0.5, 0.5],
    "clobTokenIds": ["1", "2"],
}


def test_each_target_is_trained_by_the_run_its_entry_names() -> None:
    from pipelines.targets import trainer

    assert trainer("winner") is train and trainer("order") is train_order
    with pytest.raises(spec.UnknownName, match="unknown target 'podium'"):
        trainer("podium")
