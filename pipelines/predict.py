"""A race's probabilities from a registered model, by alias: the CLI's and f1_score's way into
the one prediction path (feature_store/predict.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from feature_store.predict import forecast_race
from models.pyfunc import LoadedModel
from models.registry import CHAMPION, alias_version, load_version, model_name


class NoModel(LookupError):
    """No model version carries the alias asked for."""


def registered(stage: str, alias: str = CHAMPION, target: str = "winner") -> LoadedModel:
    """The version of the (target, stage) model carrying `alias`, loaded (NoModel if none)."""
    name = model_name(stage, target)
    version = alias_version(name, alias)
    if version is None:
        raise NoModel(
            f"no version of {name} has the alias @{alias}: run "
            f"`f1 train --stage {stage} --target {target}`"
        )
    return LoadedModel(name, version, alias, load_version(name, version))


def predict_race(
    engine: Engine | Connection,
    season: int,
    round_: int,
    stage: str,
    alias: str = CHAMPION,
    explain: bool = False,
    markets: bool = False,
) -> dict[str, Any]:
    """`{"race", "stage", "model", "predictions": [...]}`, sorted by probability; with
    `explain`, each prediction's largest contributions; with `markets`, every market of the
    finishing-order model carrying the same alias."""
    model = registered(stage, alias)
    order = registered(stage, alias, "order") if markets else None
    forecast = forecast_race(engine, season, round_, stage, model, explain=explain, markets=order)
    return forecast.card(engine)
