"""The platform-health gauges of /metrics, read from the warehouse at each scrape: task
outcomes recorded by the DAG callbacks, overdue results and the champion's live accuracy beside
the grid-only baseline (the inputs of prometheus/alerts.yml)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from serving.app import create_app
from serving.settings import ServiceSettings
from warehouse.db import transaction
from warehouse.operations import record_task
from warehouse.schema import DriftCheck, PipelineStatus, PredictionAccuracy, Race

SECRET = "test-secret-" + "y" * 40
NAME = "f1_winner_post_quali"


@pytest.fixture
def api(aliases, history) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The service on the shared history warehouse; what a test adds is removed after it."""
    aliases(champion="1", challenger="2")
    url = history.url.render_as_string(hide_password=False)
    with TestClient(create_app(ServiceSettings(database_url=url, jwt_secret=SECRET))) as client:
        yield client
    with transaction(history) as session:
        session.execute(delete(PipelineStatus))
        session.execute(delete(PredictionAccuracy))
        session.execute(delete(DriftCheck))
        session.execute(delete(Race).where(Race.season == 2099))


def _gauges(api: TestClient) -> dict[str, float]:
    values = {}
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(("f1_pipeline", "f1_warehouse", "f1_live", "f1_feature", "f1_drift")):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_task_outcomes_become_gauges(api: TestClient, history: Any) -> None:
    succeeded = dt.datetime(2026, 11, 16, 6, 5, tzinfo=dt.UTC)
    with transaction(history) as session:
        record_task(session, "f1_ingest", "ingest", "r1", "success", at=succeeded)
        record_task(session, "f1_features", "validate_raw", "r1", "success", at=succeeded)
    with transaction(history) as session:
        record_task(session, "f1_ingest", "ingest", "r2", "failed", "ApiDataError: bad round")
        with pytest.raises(ValueError, match="'running' is not one of success, failed"):
            record_task(session, "f1_ingest", "ingest", "r3", "running")

    gauges = _gauges(api)

    assert gauges['f1_pipeline_task_failed{dag="f1_ingest",task="ingest"}'] == 1.0
    assert gauges['f1_pipeline_task_failed{dag="f1_features",task="validate_raw"}'] == 0.0
    success = 'f1_pipeline_task_last_success_timestamp_seconds{dag="f1_ingest",task="ingest"}'
    assert gauges[success] == succeeded.timestamp()  # a failure keeps the last success
    assert gauges["f1_warehouse_up"] == 1.0
    with transaction(history) as session:
        status = session.get(PipelineStatus, ("f1_ingest", "ingest"))
        assert status is not None and status.error == "ApiDataError: bad round"
        record_task(session, "f1_ingest", "ingest", "r4", "success")
    assert _gauges(api)['f1_pipeline_task_failed{dag="f1_ingest",task="ingest"}'] == 0.0


def test_results_overdue_after_a_race_weekend(api: TestClient, history: Any) -> None:
    gauges = _gauges(api)
    assert gauges["f1_warehouse_results_overdue_days"] == 0.0  # every held race has results
    abu_dhabi = dt.datetime(2024, 12, 8, tzinfo=dt.UTC).timestamp()
    assert gauges["f1_warehouse_last_result_timestamp_seconds"] == abu_dhabi
    today = dt.datetime.now(dt.UTC).date()
    with transaction(history) as session:
        circuit = session.scalar(select(Race.circuit_id).limit(1))
        for round_, days in ((1, -10), (2, -3), (3, 4)):  # held 10 and 3 days ago, one ahead
            session.add(
                Race(
                    season=2099,
                    round=round_,
                    circuit_id=circuit,
                    name=f"Test GP {round_}",
                    date=today + dt.timedelta(days=days),
                )
            )
    assert _gauges(api)["f1_warehouse_results_overdue_days"] == 10.0  # alert: > 8


def test_live_accuracy_of_the_champion_beside_the_grid_baseline(
    api: TestClient, history: Any
) -> None:
    with transaction(history) as session:
        races = session.scalars(
            select(Race.id).where(Race.season == 2024).order_by(Race.round)
        ).all()
        # the champion (v1) scored on rounds 1–8; the baseline on all but round 8; the
        # challenger (v2) on the last rounds only: none of its rows may count
        rows = [(race, NAME, "1", 1.0 + i / 10, i % 2 == 0) for i, race in enumerate(races[:8])]
        rows += [(race, "baseline_grid", "grid", 2.0, True) for race in races[:7]]
        rows += [(race, NAME, "2", 0.1, True) for race in races[20:]]
        for race, name, version, log_loss, top1 in rows:
            session.add(
                PredictionAccuracy(
                    race_id=race,
                    stage="post_quali",
                    model_name=name,
                    model_version=version,
                    log_loss=log_loss,
                    brier=0.05,
                    top1=top1,
                    top3=True,
                    entrants=20,
                )
            )

    gauges = _gauges(api)

    # the last 5 races with both: rounds 3–7 (i = 2..6)
    assert gauges['f1_live_races{stage="post_quali"}'] == 5.0
    champion = 'f1_live_log_loss{model="champion",stage="post_quali"}'
    assert gauges[champion] == pytest.approx(sum(1.0 + i / 10 for i in range(2, 7)) / 5)
    assert gauges['f1_live_log_loss{model="baseline",stage="post_quali"}'] == 2.0
    assert gauges['f1_live_top1{model="champion",stage="post_quali"}'] == pytest.approx(3 / 5)
    assert gauges['f1_live_top1{model="baseline",stage="post_quali"}'] == 1.0
    assert not any('stage="pre_quali"' in name for name in gauges)  # nothing scored there


def test_the_last_checked_race_drift_becomes_gauges(api: TestClient, history: Any) -> None:
    with transaction(history) as session:
        r23, r24 = session.scalars(
            select(Race.id).where(Race.season == 2024, Race.round >= 23).order_by(Race.round)
        ).all()
        monday = dt.datetime(2024, 12, 2, 6, tzinfo=dt.UTC)
        rows = [  # (race, stage, kind, subject, statistic, alert, checked)
            (r23, "pre_quali", "feature", "driver_elo", 0.9, True, monday),
            (r24, "pre_quali", "feature", "driver_elo", 0.2, False, monday + dt.timedelta(6)),
            (r24, "pre_quali", "feature", "form5_points", 0.7, True, monday + dt.timedelta(6)),
            (r24, "pre_quali", "live_log_loss", f"{NAME}@1", 0.45, True, monday),  # unchanged
        ]
        for race, stage, kind, subject, statistic, alert, checked in rows:
            session.add(
                DriftCheck(
                    race_id=race,
                    stage=stage,
                    kind=kind,
                    subject=subject,
                    statistic=statistic,
                    p_value=None if kind != "feature" else (1e-5 if alert else 0.3),
                    threshold=0.001 if kind == "feature" else 0.3,
                    alert=alert,
                    checked_at=checked,
                )
            )

    gauges = _gauges(api)

    # round 24 is the last checked race: its rows only, whenever each was last written
    assert gauges['f1_feature_drift_ks{feature="driver_elo",stage="pre_quali"}'] == 0.2
    assert gauges['f1_feature_drift_ks{feature="form5_points",stage="pre_quali"}'] == 0.7
    assert gauges['f1_live_log_loss_gap{stage="pre_quali"}'] == 0.45
    assert gauges['f1_drift_alerts{stage="pre_quali"}'] == 2.0  # FeatureDrift fires
    assert not any('stage="post_quali"' in name and "drift" in name for name in gauges)
