"""The artifact store against moto's S3 server on 127.0.0.1: files, a registered model, and the
folder fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.s3 import S3
from warehouse.artifacts import publish, split_s3


def test_publish_puts_files_under_the_prefix_and_replaces_them(s3: S3, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text('{"a": 1}')
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"\x89PNG-made-up")

    written = publish([report, plot], "reports/x")

    assert written == [
        f"s3://{s3.bucket}/platform/reports/x/report.json",
        f"s3://{s3.bucket}/platform/reports/x/plot.png",
    ]
    report.write_text('{"a": 2}')
    publish([report], "/reports/x/")  # same key: replaced, not duplicated
    assert s3.keys() == ["platform/reports/x/plot.png", "platform/reports/x/report.json"]
    assert s3.read("platform/reports/x/report.json") == b'{"a": 2}'
    assert s3.read("platform/reports/x/plot.png") == b"\x89PNG-made-up"


def test_publish_to_a_folder_and_bad_input(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("{}")
    store = tmp_path / "store"
    assert publish([report], "reports/y", str(store)) == [str(store / "reports/y/report.json")]
    assert (store / "reports/y/report.json").read_text() == "{}"
    with pytest.raises(FileNotFoundError, match="missing.json"):
        publish([tmp_path / "missing.json"], "reports/y", str(store))
    with pytest.raises(ValueError, match="without a bucket"):
        split_s3("s3:///prefix")
    assert split_s3("s3://bucket/a/b/") == ("bucket", "a/b")


def test_a_model_trained_with_s3_artifacts_loads_back_from_s3(  # type: ignore[no-untyped-def]
    registry, history_copy: Path, s3: S3, tmp_path: Path, monkeypatch
) -> None:
    """Training logs the model to the experiment's s3:// location; loading the registered
    version reads it back from S3 and gives the same probabilities as the trained ensemble."""
    import mlflow

    from models.ensemble import Recipe
    from pipelines.train import train
    from pipelines.training_data import labelled
    from warehouse.db import make_engine

    # the session registry's published features, a private warehouse and a new tracking store
    home = Path(registry["env"]["F1_HOME"])
    monkeypatch.setenv("F1_HOME", str(home))
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{history_copy}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    small = Recipe(
        "post_quali",
        rf={"n_estimators": 5, "max_depth": 3, "random_state": 1},
        xgb={"num_boost_round": 5, "max_depth": 2, "eta": 0.3, "nthread": 2, "seed": 1},
    )
    engine = make_engine()
    result = train(engine, "post_quali", start=2020, last=2024, recipe=small)

    assert (result.version, result.aliases) == ("1", ["challenger", "champion"])
    experiment = "platform/mlflow/f1_winner_post_quali"
    run_keys = s3.keys(f"{experiment}/{result.run_id}/artifacts/validation/")
    explained = [k for k in run_keys if "/validation/explain/" in k]
    # one explanation plot per validation race (2023–24: 22 + 24)
    assert len(explained) == 46 and explained[-1].endswith("explain-2024-24.png")
    run_keys = [k for k in run_keys if k not in explained]
    assert [key.rsplit("/", 1)[1] for key in run_keys] == [
        "per_race.csv",
        "validation-by-season.png",
        "validation-comparisons.png",
        "validation-importance.png",
        "validation-reliability.png",
        "validation.json",
    ]
    model_keys = [k.removeprefix(f"{experiment}/models/") for k in s3.keys(f"{experiment}/models/")]
    (model_id,) = {key.split("/")[0] for key in model_keys}  # the one logged model
    assert f"{model_id}/artifacts/MLmodel" in model_keys
    assert f"{model_id}/artifacts/artifacts/ensemble.pkl" in model_keys
    local = home / "mlartifacts" / "f1_winner_post_quali" / result.run_id
    assert not local.exists()  # nothing went to the local folder

    rows = labelled(engine, "post_quali", since=2024)
    race = rows[rows["round"] == rows["round"].max()]
    model = mlflow.pyfunc.load_model("models:/f1_winner_post_quali/1")
    answer = model.predict(race[model.metadata.get_input_schema().input_names()])
    assert list(answer["driver_id"]) == list(race["driver_id"])
    assert answer["probability"].sum() == pytest.approx(1.0)
    assert (answer["probability"] > 0).all()
    engine.dispose()
