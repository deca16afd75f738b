"""MLflow locations, registered model names and aliases (never stages)."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.settings import WarehouseSettings

CHAMPION, CHALLENGER = "champion", "challenger"


def model_name(stage: str) -> str:
    """`f1_winner_pre_quali` or `f1_winner_post_quali`."""
    return f"f1_winner_{stage}"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, else SQLite under F1_HOME."""
    home = WarehouseSettings().f1_home.resolve()
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home / 'mlflow.db'}"


def artifact_root() -> Path:
    """Where runs keep artifacts when the tracking store is the embedded SQLite."""
    return WarehouseSettings().f1_home.resolve() / "mlartifacts"
