"""`dag.test()` of f1_promote and f1_score on the session's real models (tests/conftest.py:
`f1_winner_post_quali` v1 crippled, v2 real) and a private copy of the history warehouse."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models.registry import alias_version
from pipelines.score import store_predictions
from tests.servers.s3 import airflow_connection
from warehouse.db import make_engine, transaction
from warehouse.exports import PREDICTION_COLUMNS
from warehouse.model_events import history
from warehouse.schema import Circuit, Prediction, PredictionAccuracy, Race, RaceResult

NAME = "f1_winner_post_quali"


def _dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    return DagBag(dag_folder=str(DAGS / f"{dag_id}.py")).dags[dag_id]


@pytest.fixture
def warehouse(aliases, airflow_db, history_file: Path, tmp_path: Path, monkeypatch) -> Any:  # type: ignore[no-untyped-def]
    """The session registry's stores, with a private warehouse copy the DAG may write."""
    path = tmp_path / "warehouse.db"
    shutil.copy(history_file, path)
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{path}")
    engine = make_engine()
    yield engine
    engine.dispose()


def test_f1_promote_keeps_a_worse_challenger_out(aliases, warehouse) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger="1")
    run = _dag("f1_promote").test()
    assert run.state == "success"
    assert alias_version(NAME, "champion") == "2"
    assert history(warehouse, NAME) == []


def test_f1_promote_promotes_a_better_challenger(aliases, warehouse) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="1", challenger="2")
    run = _dag("f1_promote").test()
    assert run.state == "success"
    assert alias_version(NAME, "champion") == "2"
    events = history(warehouse, NAME)
    assert [(e.action, e.version, e.previous_version) for e in events] == [("promote", "2", "1")]
    assert "offline" in events[0].reason


def test_f1_score_scores_stores_the_next_race_and_promotes(
    aliases, warehouse, s3, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """…and exports the season to S3 through the S3Hook on the Airflow connection
    `F1_AWS_CONN_ID` (moto's server; the feature store reads it with boto3's own variables, as
    MLflow does; tests/dags/test_storage.py shows the hook needs nothing but the connection)."""
    aliases(champion="1", challenger="2")
    monkeypatch.setenv("F1_AWS_CONN_ID", "f1_s3")
    monkeypatch.setenv("AIRFLOW_CONN_F1_S3", airflow_connection(s3.endpoint))
    with warehouse.connect() as connection:
        races = connection.execute(
            select(Race.id, Race.season, Race.round, Race.name)
            .where(Race.season == 2024, Race.round <= 12)
            .order_by(Race.round)
        ).all()
        bahrain = connection.scalar(select(Circuit.id).where(Circuit.ref == "bahrain"))
    from feature_store.online import RaceRef

    for race in races:  # what earlier cycles stored before each race
        store_predictions(warehouse, RaceRef(*race))
    upcoming = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)
    with transaction(warehouse) as session:
        session.add(
            Race(
                season=upcoming.year + 1, round=1, circuit_id=bahrain, name="Next GP", date=upcoming
            )
        )

    run = _dag("f1_score").test()

    assert run.state == "success"
    with warehouse.connect() as connection:
        scored = connection.execute(
            select(
                PredictionAccuracy.stage, PredictionAccuracy.model_version, func.count()
            ).group_by(PredictionAccuracy.stage, PredictionAccuracy.model_version)
        ).all()
        stored_next = connection.execute(
            select(Prediction.stage, Prediction.model_version, func.sum(Prediction.probability))
            .join(Race, Race.id == Prediction.race_id)
            .where(Race.name == "Next GP")
            .group_by(Prediction.stage, Prediction.model_version)
        ).all()
    assert sorted(scored) == [
        ("post_practice", "1", 12),
        ("post_practice", "final_practice", 12),  # after practice: its fastest in the last one
        ("post_quali", "1", 12),
        ("post_quali", "2", 12),
        ("post_quali", "grid", 12),  # the grid-only baseline, scored on the same races
        ("pre_quali", "1", 12),
        ("pre_quali", "last_winner", 12),  # before qualifying: the last race's winner
    ]
    # before its weekend only the pre_quali model can forecast the next race
    assert [(stage, version) for stage, version, _ in stored_next] == [("pre_quali", "1")]
    assert abs(stored_next[0][2] - 1) < 1e-6
    with warehouse.connect() as connection:
        baseline_top1 = dict(
            connection.execute(
                select(PredictionAccuracy.race_id, PredictionAccuracy.top1).where(
                    PredictionAccuracy.model_name == "baseline_grid",
                    PredictionAccuracy.stage == "post_quali",
                )
            ).all()
        )
        pole_won = dict(
            connection.execute(
                select(RaceResult.race_id, RaceResult.grid == 1).where(
                    RaceResult.position == 1, RaceResult.race_id.in_(list(baseline_top1))
                )
            ).all()
        )
    # the grid baseline's favourite is the pole-sitter: its top-1 is "the pole-sitter won"
    assert baseline_top1 == {race: bool(won) for race, won in pole_won.items()}
    assert alias_version(NAME, "champion") == "2"  # the online gate: 12 races, v2 better
    events = history(warehouse, NAME)
    assert [(e.action, e.version) for e in events] == [("promote", "2")]
    assert "online" in events[0].reason

    prefix = "platform/exports/season=2024/"
    assert s3.keys(prefix) == [
        prefix + "f1-predictions-2024.csv",
        prefix + "f1-race-results-2024.csv",
    ]
    with warehouse.connect() as connection:
        predictions = connection.scalar(
            select(func.count()).select_from(Prediction).join(Race).where(Race.season == 2024)
        )
        results = connection.scalar(
            select(func.count()).select_from(RaceResult).join(Race).where(Race.season == 2024)
        )
    exported = s3.read(prefix + "f1-predictions-2024.csv").decode().splitlines()
    assert exported[0] == ",".join(PREDICTION_COLUMNS)
    assert len(exported) - 1 == predictions > 0
    exported = s3.read(prefix + "f1-race-results-2024.csv").decode().splitlines()
    assert len(exported) - 1 == results == 479
