"""A race's win probabilities from a registered model and the feature store's online lookup."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.online import get_entry_features, prediction_card
from models.pyfunc import explanations, probabilities
from models.registry import alias_version, load_version, model_name


class NoModel(LookupError):
    """No model version carries the alias asked for."""


def race_probabilities(
    engine: Engine | Connection, season: int, round_: int, stage: str, name: str, version: str
) -> pd.DataFrame:
    """The race's entrants' feature rows with the version's `probability` (sums to 1)."""
    rows = get_entry_features(engine, season, round_, stage)
    return rows.assign(probability=probabilities(load_version(name, version), rows, stage))


def predict_race(
    engine: Engine | Connection,
    season: int,
    round_: int,
    stage: str,
    alias: str = "champion",
    explain: bool = False,
) -> dict[str, Any]:
    """`{"race", "stage", "model", "predictions": [...]}`, sorted by probability; with
    `explain`, each prediction's largest contributions."""
    name = model_name(stage)
    version = alias_version(name, alias)
    if version is None:
        raise NoModel(f"no version of {name} has the alias @{alias}: run `f1 train`")
    rows = race_probabilities(engine, season, round_, stage, name, version)
    reasons = explanations(load_version(name, version), rows, stage) if explain else None
    answer = prediction_card(
        engine, rows, rows["probability"].to_numpy(), season, round_, stage, reasons
    )
    answer["model"] = {"name": name, "version": version, "alias": alias}
    return answer
