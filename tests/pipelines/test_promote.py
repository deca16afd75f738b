"""Champion/challenger: offline and online gates, manual promotion and rollback, on real models.

The session's `registry` (tests/conftest.py) holds two real versions of
`f1_winner_post_quali`: v1 from a deliberately crippled recipe, v2 from the real one. Each test
sets the aliases it needs; the warehouse is per test and per backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from cli.main import app
from feature_store.build import race_entrants
from feature_store.frames import load_frames
from models.registry import client as registry_client
from pipelines import promote
from pipelines.score import RaceRef, score_predictions, store_predictions
from spec import STAGES
from warehouse.db import make_engine
from warehouse.schema import (
    MarketAccuracy,
    MarketPrediction,
    ModelEvent,
    Prediction,
    PredictionAccuracy,
    QualifyingResult,
    Race,
)

NAME = "f1_winner_post_quali"


def _events(engine: Any) -> list[ModelEvent]:
    return promote.history(engine, NAME)


def test_paired_bootstrap_values() -> None:
    better = np.array([1.0, 2.0, 1.5, 0.8, 1.2])
    assert promote.paired_bootstrap(better + 0.1, better) == 1.0
    assert promote.paired_bootstrap(better, better + 0.1) == 0.0
    assert promote.paired_bootstrap(better, better) == 0.0  # no difference is no evidence
    mixed = promote.paired_bootstrap(np.ones(40), np.where(np.arange(40) % 2 == 0, 0.5, 1.4))
    assert 0.7 < mixed < 0.95  # mean 0.95 < 1 but noisy: confident, not 90 %


def test_training_stores_per_race_validation_and_initial_champion(aliases) -> None:  # type: ignore[no-untyped-def]
    per_race = promote.per_race_validation(NAME, "2")
    assert list(per_race.columns) == ["season", "round", "race_id", "log_loss", "baseline_log_loss"]
    # the grid baseline beside the model, race by race (the model page's backtest record)
    assert (per_race["baseline_log_loss"] > 0).all()
    assert per_race["baseline_log_loss"].mean() > per_race["log_loss"].mean()
    assert set(per_race["season"]) == {2023, 2024} and len(per_race) == 22 + 24
    assert (per_race["log_loss"] > 0).all()
    crippled = promote.per_race_validation(NAME, "1")
    assert crippled["log_loss"].mean() > per_race["log_loss"].mean() + 0.2
    warehouse = make_engine()
    initial = [e for e in _events(warehouse) if e.action == "initial"]
    assert [(e.version, e.previous_version) for e in initial] == [("1", None)]


def test_worse_challenger_is_never_promoted(aliases, migrated) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger="1")
    decision = promote.offline_gate(migrated, "post_quali", promote.sanity_rows("post_quali"))
    assert not decision.promoted
    assert decision.evidence["races"] == 46
    assert decision.evidence["confidence"] < 0.01
    assert "confidence" in decision.reason
    assert promote.alias_version(NAME, "champion") == "2"
    assert _events(migrated) == []


def test_better_challenger_is_promoted_recorded_and_rolled_back(aliases, migrated) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="1", challenger="2")
    decision = promote.offline_gate(migrated, "post_quali", promote.sanity_rows("post_quali"))
    assert decision.promoted, decision.reason
    assert decision.evidence["confidence"] >= 0.9 and decision.evidence["sanity"] == "ok"
    assert promote.alias_version(NAME, "champion") == "2"
    [event] = _events(migrated)
    assert (event.action, event.version, event.previous_version) == ("promote", "2", "1")
    assert json.loads(event.evidence)["races"] == 46
    tags = registry_client().get_model_version(NAME, "2").tags
    assert tags["promotion_action"] == "promote" and "log loss" in tags["promotion_reason"]
    assert "demoted_at" in registry_client().get_model_version(NAME, "1").tags

    back = promote.rollback(migrated, NAME, actor="test")
    assert (back.action, back.version, back.previous_version) == ("rollback", "1", "2")
    assert promote.alias_version(NAME, "champion") == "1"
    assert [e.action for e in _events(migrated)] == ["promote", "rollback"]


def test_cli_list_promote_rollback(aliases, migrated, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("F1_DATABASE_URL", migrated.url.render_as_string(hide_password=False))
    aliases(champion="1", challenger="2")
    runner = CliRunner()
    done = runner.invoke(app, ["models", "promote", NAME, "2", "--reason", "release"])
    assert done.exit_code == 0, done.output
    assert promote.alias_version(NAME, "champion") == "2"
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "challenger, champion" in listed.stdout
    assert "manual" in listed.stdout and "release" in listed.stdout
    done = runner.invoke(app, ["models", "rollback", NAME])
    assert done.exit_code == 0, done.output
    assert promote.alias_version(NAME, "champion") == "1"
    missing = runner.invoke(app, ["models", "promote", NAME, "99"])
    assert missing.exit_code == 1 and "has no version 99" in missing.output
    nothing = runner.invoke(app, ["models", "rollback", NAME])  # v1 was never promoted here
    assert nothing.exit_code == 1 and "no earlier champion" in nothing.output


def test_sanity_refuses_a_model_for_other_inputs(aliases) -> None:  # type: ignore[no-untyped-def]
    rows = promote.sanity_rows("post_quali")
    assert promote.sanity(NAME, "2", "post_quali", rows) == []
    problems = promote.sanity(NAME, "2", "pre_quali", rows)  # the pre_quali view lacks grid
    assert problems and "signature inputs" in problems[0]


@pytest.fixture
def scored_warehouse(history) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The shared history warehouse, with this test's predictions and events removed after."""
    yield history
    with history.begin() as connection:
        # the finishing-order models' markets are stored beside the predictions
        for table in (MarketAccuracy, MarketPrediction, PredictionAccuracy, Prediction, ModelEvent):
            connection.execute(delete(table))


def _races(engine: Any, rounds: range) -> list[RaceRef]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Race.id, Race.season, Race.round, Race.name)
            .where(Race.season == 2024, Race.round.in_(list(rounds)))
            .order_by(Race.round)
        ).all()
    return [RaceRef(*row) for row in rows]


def test_online_gate_needs_five_scored_races_then_promotes(aliases, scored_warehouse) -> None:  # type: ignore[no-untyped-def]
    engine = scored_warehouse
    aliases(champion="1", challenger="2")
    for race in _races(engine, range(1, 5)):
        stored = store_predictions(engine, race)
        with engine.connect() as connection:
            qualified = connection.scalar(
                select(func.count()).where(QualifyingResult.race_id == race.race_id)
            )
        # the qualifying list and the season's line-up: Sargeant, whose car Albon took in
        # Melbourne (round 3), is on the line-up but not on the list
        entrants = len(race_entrants(load_frames(engine), [race.race_id]))
        assert stored[f"{NAME} v1"] == stored[f"{NAME} v2"] == entrants >= qualified >= 19
        assert entrants == qualified + (race.round == 3)
    # 4 races × (2 versions of post_quali + the one of each earlier stage)
    per_race = 2 + len(STAGES) - 1
    assert score_predictions(engine) == 4 * per_race
    assert score_predictions(engine) == 0  # nothing left to score
    waiting = promote.online_gate(engine, "post_quali")
    assert not waiting.promoted and "only 4 races" in waiting.reason

    for race in _races(engine, range(5, 13)):
        store_predictions(engine, race)
    score_predictions(engine)
    with engine.connect() as connection:
        sums = connection.execute(
            select(func.sum(Prediction.probability)).group_by(
                Prediction.race_id, Prediction.stage, Prediction.model_version
            )
        ).scalars()
        assert all(abs(s - 1) < 1e-6 for s in sums)
        accuracy = pd.read_sql(select(PredictionAccuracy), connection)
    assert len(accuracy) == 12 * per_race
    v2 = accuracy[(accuracy["model_version"] == "2") & (accuracy["stage"] == "post_quali")]
    assert v2["top1"].mean() > 0.5 and v2["entrants"].between(19, 20).all()
    decision = promote.online_gate(engine, "post_quali")
    assert decision.promoted, decision.reason
    assert decision.evidence["races"] == 12 and decision.evidence["confidence"] >= 0.9
    assert promote.alias_version(NAME, "champion") == "2"
