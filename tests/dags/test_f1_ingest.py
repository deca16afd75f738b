"""`dag.test()` of f1_ingest against a temporary warehouse and local F1 API / Open-Meteo."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from pipelines.snapshot import BUNDLED, load_snapshot
from tests.dags.conftest import asset_events
from tests.servers.base import LocalServer
from tests.snapshots import snapshot_until
from warehouse.db import make_engine, transaction
from warehouse.migrate import upgrade
from warehouse.operations import task_statuses
from warehouse.status import warehouse_status


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("F1_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def f1_ingest(airflow_db):  # type: ignore[no-untyped-def]
    """A freshly parsed f1_ingest: dag.test(run_conf=...) leaves the conf on the DAG object."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    return DagBag(dag_folder=str(DAGS / "f1_ingest.py")).dags["f1_ingest"]


def _statuses(engine) -> set[tuple[str, str, str | None]]:
    """(task_id, state, error) of f1_ingest's tasks as the callbacks recorded them."""
    with transaction(engine) as session:
        return {
            (s.task_id, s.state, s.error) for s in task_statuses(session) if s.dag_id == "f1_ingest"
        }


def _tables(engine) -> dict[str, int]:
    with transaction(engine) as session:
        return warehouse_status(session)["tables"]


def test_snapshot_mode_loads_the_history_and_announces_it(f1_ingest, warehouse) -> None:
    run = f1_ingest.test(run_conf={"mode": "snapshot"})

    assert run.state == "success"
    tables = _tables(warehouse)
    assert tables["races"] == 1125 and tables["race_results"] == 26811
    event = asset_events("f1/warehouse")[-1]
    assert event["mode"] == "snapshot"
    assert tables.pop("pipeline_status") == 4  # the callbacks' rows, written after the event
    assert event["rows_changed"] == sum(tables.values())
    assert event["last_race"] == {"season": 2024, "round": 24, "name": "Abu Dhabi Grand Prix"}
    assert _statuses(warehouse) == {
        (task, "success", None) for task in ("plan", "published", "ingest", "weather")
    }


def test_a_bad_snapshot_fails_the_run_without_retries_and_writes_nothing(
    f1_ingest, warehouse, tmp_path: Path, webhook
) -> None:
    """…and the failure callback records it for monitoring and posts it to the webhook."""
    bad = tmp_path / "bad"
    shutil.copytree(BUNDLED, bad)
    races = bad / "races.csv"
    races.write_text(races.read_text().replace("1950-05-13", "1950-05-32", 1))

    run = f1_ingest.test(run_conf={"mode": "snapshot", "snapshot_dir": str(bad)})

    assert run.state == "failed"
    ti = next(t for t in run.get_task_instances() if t.task_id == "ingest")
    assert ti.state == "failed" and ti.try_number == 1  # bad data is not retried
    tables = _tables(warehouse)
    assert tables.pop("pipeline_status") == 3  # plan and published succeeded, ingest failed
    assert set(tables.values()) == {0}
    (status,) = [s for s in _statuses(warehouse) if s[1] == "failed"]
    assert status[:2] == ("ingest", "failed") and "1950-05-32" in status[2]
    (post,) = webhook.posts
    assert (post["dag_id"], post["task_id"], post["run_id"]) == ("f1_ingest", "ingest", run.run_id)
    assert post["try_number"] == 1 and "1950-05-32" in post["error"]
    assert post["text"].startswith(":red_circle: Airflow task failed: f1_ingest.ingest")


def test_live_mode_fetches_the_missing_rounds_through_the_f1_api_connection(
    f1_ingest,
    warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    jolpica: LocalServer,
    meteo: LocalServer,
) -> None:
    load_snapshot(warehouse, snapshot_until(tmp_path / "cut", 2024, 22))
    # the connection as an environment variable: a conn_file_path given to dag.test() would
    # stay in Airflow's cached secrets backends for every later test of this process
    monkeypatch.setenv(
        "AIRFLOW_CONN_F1_API",
        json.dumps({"conn_type": "http", "host": f"{jolpica.url}/ergast/f1"}),
    )
    monkeypatch.setenv("F1_API_BASE_URL", "http://127.0.0.1:9/unused")  # the connection wins
    monkeypatch.setenv("F1_API_RATE_PER_SECOND", "1000")
    monkeypatch.setenv("OPEN_METEO_ARCHIVE_URL", f"{meteo.url}/v1/archive")
    monkeypatch.setenv("OPEN_METEO_FORECAST_URL", f"{meteo.url}/v1/forecast")
    monday = dt.datetime(2024, 12, 16, 6, tzinfo=dt.UTC)  # after rounds 23 (Dec 1), 24 (Dec 8)
    events = len(asset_events("f1/warehouse"))

    run = f1_ingest.test(run_after=monday, logical_date=monday)

    assert run.state == "success"
    with transaction(warehouse) as session:
        rounds = session.scalars(
            text(
                "SELECT DISTINCT r.round FROM races r JOIN race_results rr ON rr.race_id = r.id "
                "WHERE r.season = 2024 ORDER BY r.round"
            )
        ).all()
        weather = session.scalar(text("SELECT count(*) FROM weather"))
    assert rounds == list(range(1, 25))
    assert weather == 24  # every 2024 race: archive, or forecast for the last two
    event = asset_events("f1/warehouse")[-1]
    assert len(asset_events("f1/warehouse")) == events + 1
    assert (event["season"], event["rounds"]) == (2024, [23, 24])
    assert any(path.startswith("/ergast/f1/2024/23/results.json") for path in jolpica.requests)

    # A second run finds nothing new: no asset event, so nothing downstream runs.
    rerun = f1_ingest.test(
        run_after=monday + dt.timedelta(hours=1),
        logical_date=monday + dt.timedelta(hours=1),
    )
    assert rerun.state == "success"
    states = {t.task_id: t.state for t in rerun.get_task_instances()}
    assert states == {
        "plan": "success",
        "published": "success",
        "ingest": "success",
        "weather": "skipped",
    }
    assert len(asset_events("f1/warehouse")) == events + 1
