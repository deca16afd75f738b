"""A race's win probabilities from a registered model and the feature store's online lookup."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from feature_store.online import get_entry_features, prediction_card
from feature_store.view import feature_names


class NoModel(LookupError):
    """No model version carries the alias asked for."""


def predict_race(
    engine: Engine | Connection, season: int, round_: int, stage: str, alias: str = "champion"
) -> dict[str, Any]:
    """`{"race", "stage", "model", "predictions": [...]}`, sorted by probability."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from models.registry import model_name, tracking_uri

    mlflow.set_tracking_uri(tracking_uri())
    name = model_name(stage)
    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException:
        raise NoModel(f"no version of {name} has the alias @{alias}: run `f1 train`") from None
    rows = get_entry_features(engine, season, round_, stage)
    model = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
    probs = model.predict(rows[["race_id", "driver_id", *feature_names(stage)]])
    answer = prediction_card(engine, rows, probs["probability"].to_numpy(), season, round_, stage)
    answer["model"] = {"name": name, "version": str(version.version), "alias": alias}
    return answer
