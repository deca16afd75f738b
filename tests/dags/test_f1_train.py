"""`dag.test()` of f1_train on a short range of seasons, against a temporary MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest

import spec
from pipelines.features import build_features, publish_build
from tests.dags.conftest import asset_events
from warehouse.db import make_engine


@pytest.fixture
def f1_train(airflow_db):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    return DagBag(dag_folder=str(DAGS / "f1_train.py")).dags["f1_train"]


def test_trains_every_target_and_stage_registers_and_announces(
    f1_train, history_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    engine = make_engine()
    publish_build(build_features(engine))
    engine.dispose()

    run = f1_train.test(run_conf={"start": 2015, "last": 2024})

    assert run.state == "success"
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    client = MlflowClient()
    names = spec.model_names()
    events = {e["name"]: e for e in asset_events("f1/models")[-len(names) :]}
    assert set(events) == set(names)
    for name in [n for n in names if n.startswith("f1_order_")]:  # the finishing-order models
        event = events.pop(name)
        champion = client.get_model_version_by_alias(name, "champion")
        assert str(champion.version) == event["version"] == "1"
        params = client.get_run(event["run_id"]).data.params
        assert (params["target"], params["train_to"]) == ("order", "2024")
        per_race = client.list_artifacts(event["run_id"], "validation")
        assert "validation/per_race.csv" in {a.path for a in per_race}  # what the gate reads
    for name, event in events.items():
        champion = client.get_model_version_by_alias(name, "champion")
        challenger = client.get_model_version_by_alias(name, "challenger")
        assert str(champion.version) == str(challenger.version) == event["version"] == "1"
        assert champion.run_id == event["run_id"]
        params = client.get_run(event["run_id"]).data.params
        assert params["feature_view"] == "race_entry_features_v1"
        assert (params["train_from"], params["train_to"]) == ("2015", "2024")
        artifacts = {a.path for a in client.list_artifacts(event["run_id"], "validation")}
        assert "validation/validation-reliability.png" in artifacts
        model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
        assert model.metadata.metadata["feature_view_version"] == 1
