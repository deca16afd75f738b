"""Issue 21: MLflow shows what a training run is and how long it took, and opens the model
experiments on their runs (the session registry's real trainings)."""

from __future__ import annotations

import pytest


def test_runs_are_named_and_dated_from_the_start_of_training(registry: dict, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import mlflow

    for key, value in registry["env"].items():
        monkeypatch.setenv(key, value)
    mlflow.set_tracking_uri(registry["env"]["MLFLOW_TRACKING_URI"])
    client = mlflow.MlflowClient()
    names = []
    for result in registry["trained"]:
        run = client.get_run(result.run_id)
        names.append(run.info.run_name)
        took = (run.info.end_time - run.info.start_time) / 1000
        # the whole training (walk-forward validation, fit, logging), not only the logging
        assert took == pytest.approx(result.seconds, rel=0.25, abs=2.0), result.name
        experiment = client.get_experiment(run.info.experiment_id)
        assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert names == [
        "train post_quali 2016–2024",
        "train post_quali 2016–2024",
        "train pre_quali 2016–2024",
        "train post_practice 2016–2024",
        "train order_pre_quali 2016–2024",
        "train order_post_practice 2016–2024",
        "train order_post_quali 2016–2024",
    ]
