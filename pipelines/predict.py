"""A race's win probabilities from a registered model and the feature store's online lookup."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from feature_store.online import get_entry_features
from feature_store.view import feature_names
from warehouse.db import session_factory
from warehouse.schema import Driver, Race


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
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        race = session.execute(
            select(Race.name).where(Race.season == season, Race.round == round_)
        ).scalar_one()
        names = dict(
            session.execute(
                select(Driver.id, Driver.forename + " " + Driver.surname).where(
                    Driver.id.in_(rows["driver_id"].tolist())
                )
            )
            .tuples()
            .all()
        )
    ordered = rows.assign(probability=probs["probability"].to_numpy()).sort_values(
        "probability", ascending=False
    )
    columns = ("driver_id", "driver_ref", "team_ref", "probability")
    predictions = [
        {
            "driver_id": ref,
            "driver_name": names.get(int(ident), ref),
            "team_id": team,
            "probability": float(p),
        }
        for ident, ref, team, p in zip(*(ordered[c].tolist() for c in columns), strict=True)
    ]
    return {
        "race": {"season": season, "round": round_, "name": race},
        "stage": stage,
        "model": {"name": name, "version": str(version.version), "alias": alias},
        "predictions": predictions,
    }
