"""`dag.test()` of f1_features: a clean warehouse publishes; each corruption of real data is
caught by a named expectation and stops the run before anything is published."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from feature_store.store import Manifest, store_root
from pipelines.features import build_features, publish_build
from tests.dags.conftest import asset_events
from warehouse.db import make_engine, transaction
from warehouse.operations import task_statuses

R5 = "(SELECT id FROM races WHERE season = 2023 AND round = 5)"
CORRUPTIONS = {
    "shared position": (
        f"UPDATE race_results SET position = 3, position_text = '3' WHERE race_id = {R5} "
        "AND position = 4",
        "validate_raw",
        "no two cars share a classified position within a race",
    ),
    "no winner": (
        f"UPDATE race_results SET position = NULL, position_text = 'R' WHERE race_id = {R5} "
        "AND position = 1",
        "validate_raw",
        "exactly one winning car per race",
    ),
    "two winners": (
        "UPDATE race_results SET position = 1, position_text = '1' WHERE position = 2 AND race_id"
        " = (SELECT id FROM races WHERE season = 2022 AND round = 3)",
        "validate_raw",
        "exactly one winning car per race",
    ),
    "points": (
        f"UPDATE race_results SET points = 40 WHERE race_id = {R5} AND position = 1",
        "validate_raw",
        "points within what the season's scoring allows",
    ),
    "negative grid": (
        f"UPDATE race_results SET grid = -3 WHERE race_id = {R5} AND position = 7",
        "validate_raw",
        "grid not negative",
    ),
    "negative laps": (
        f"UPDATE race_results SET laps = -1 WHERE race_id = {R5} AND position = 8",
        "validate_raw",
        "laps not negative",
    ),
    "unknown driver": (
        f"UPDATE race_results SET driver_id = 99999 WHERE race_id = {R5} AND position = 9",
        "validate_raw",
        "every result's driver is known",
    ),
    "unknown team": (
        f"UPDATE race_results SET team_id = 99999 WHERE race_id = {R5} AND position = 10",
        "validate_raw",
        "every result's team is known",
    ),
    "rounds out of date order": (
        "UPDATE races SET date = CASE round WHEN 3 THEN '2023-04-30' ELSE '2023-04-02' END "
        "WHERE season = 2023 AND round IN (3, 4)",
        "validate_raw",
        "round numbers in date order within a season",
    ),
    "unparseable qualifying time": (
        f"UPDATE qualifying_results SET q1 = '1:3x.123' WHERE race_id = {R5} AND position = 2",
        "validate_raw",
        "qualifying times parse as m:ss.fff",
    ),
    "practice lap that is not its milliseconds": (
        f"UPDATE practice_results SET milliseconds = milliseconds + 1000 WHERE race_id = {R5} "
        "AND session = 1 AND position = 1",
        "validate_raw",
        "best laps parse as m:ss.fff and match their milliseconds",
    ),
    "more wins than rounds": (
        f"UPDATE driver_standings SET wins = 30 WHERE race_id = {R5} AND position = 1",
        "validate_raw",
        "no more wins than rounds run",
    ),
    "humidity": (
        "INSERT INTO weather (race_id, air_temperature_c, precipitation_mm, wind_speed_kmh, "
        f"humidity_pct, condition, source, issued_at, fetched_at) VALUES ({R5}, 24, 0, 10, 150, "
        "'dry', 'archive', '2023-05-08 00:00:00', '2023-05-08 00:00:00')",
        "validate_raw",
        "humidity between 0 and 100 %",
    ),
    "feature out of range": (
        f"UPDATE qualifying_results SET q1 = '59:59.999', q2 = NULL, q3 = NULL WHERE "
        f"race_id = {R5} AND position = 20",
        "validate_features",
        "quali_gap_pct within [0, 2000]",
    ),
}


@pytest.fixture
def f1_features(airflow_db):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    return DagBag(dag_folder=str(DAGS / "f1_features.py")).dags["f1_features"]


def test_a_clean_warehouse_is_validated_built_and_published(f1_features, history_copy) -> None:
    run = f1_features.test()
    assert run.state == "success"
    manifest = Manifest.read(store_root())
    assert manifest is not None and manifest.stages["post_quali"]["rows"] == 28156
    event = asset_events("f1/features")[-1]
    assert event["build_id"] == manifest.build_id and event["version"] == 1
    assert len(event["races"]) == 1125 and event["races"][-1] == [2024, 24]
    docs = store_root().parents[1] / "validation" / "data_docs" / "index.html"
    assert docs.exists() and "features_post_quali" in docs.read_text()


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corruption_stops_the_run_before_features_are_published(
    f1_features, history_copy: Path, corruption: str, webhook
) -> None:
    """…and the failed gate is posted to the webhook and kept for the ValidationFailed alert."""
    sql, failing_task, expectation = CORRUPTIONS[corruption]
    engine = make_engine()
    in_service = publish_build(build_features(engine))  # a good build is being served
    engine.dispose()
    with sqlite3.connect(history_copy) as connection:  # corrupt it as a bad restore would
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("PRAGMA ignore_check_constraints = ON")
        assert connection.execute(sql).rowcount >= 1

    run = f1_features.test()

    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states[failing_task] == "failed"
    assert states["publish"] == "upstream_failed"
    failing = next(ti for ti in run.get_task_instances() if ti.task_id == failing_task)
    assert failing.try_number == 1  # bad data is not retried
    manifest = Manifest.read(store_root())
    assert manifest is not None and manifest.build_id == in_service.build_id  # untouched
    results = sorted((store_root().parents[1] / "validation" / "results").glob("*.json"))
    failed = {
        f["expectation"]: f
        for path in results
        for f in json.loads(path.read_text())["report"]["failures"]
    }
    assert expectation in failed, sorted(failed)
    assert failed[expectation]["unexpected"] >= 1 and failed[expectation]["examples"]
    (post,) = webhook.posts
    assert (post["dag_id"], post["task_id"]) == ("f1_features", failing_task)
    assert expectation in post["error"]
    with transaction(engine) as session:
        states = {(s.task_id, s.state) for s in task_statuses(session)}
    assert (failing_task, "failed") in states
