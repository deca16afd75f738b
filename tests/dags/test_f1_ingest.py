"""`dag.test()` of f1_ingest against a temporary warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from pipelines.snapshot import BUNDLED
from warehouse.db import make_engine, transaction
from warehouse.migrate import upgrade
from warehouse.status import warehouse_status


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("F1_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _tables(engine) -> dict[str, int]:
    with transaction(engine) as session:
        return warehouse_status(session)["tables"]


def _asset_events() -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            select(AssetModel.name, AssetEvent.extra).join(
                AssetModel, AssetEvent.asset_id == AssetModel.id
            )
        ).all()
    return [{"name": name, "extra": extra} for name, extra in rows]


def test_loads_the_history_and_announces_the_warehouse(dagbag, warehouse) -> None:
    run = dagbag.dags["f1_ingest"].test()

    assert run.state == "success"
    tables = _tables(warehouse)
    assert tables["races"] == 1125 and tables["race_results"] == 26811
    event = [e for e in _asset_events() if e["name"] == "f1/warehouse"][-1]
    assert event["extra"]["mode"] == "snapshot"
    assert event["extra"]["rows_changed"] == sum(v for v in tables.values())
    assert event["extra"]["last_race"] == {
        "season": 2024,
        "round": 24,
        "name": "Abu Dhabi Grand Prix",
    }


def test_a_bad_snapshot_fails_the_run_without_retries_and_writes_nothing(
    dagbag, warehouse, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(BUNDLED, bad)
    races = bad / "races.csv"
    races.write_text(races.read_text().replace("1950-05-13", "1950-05-32", 1))

    run = dagbag.dags["f1_ingest"].test(run_conf={"snapshot_dir": str(bad)})

    assert run.state == "failed"
    (ti,) = run.get_task_instances()
    assert ti.try_number == 1  # bad data is not retried
    assert set(_tables(warehouse).values()) == {0}
