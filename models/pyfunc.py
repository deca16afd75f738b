"""The ensemble as one MLflow pyfunc: feature rows of a race in, win probabilities out."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from feature_store.view import feature_names
from models.ensemble import Ensemble
from models.order import OrderModel


class WinnerModel(mlflow.pyfunc.PythonModel):
    """Input: rows of `race_entry_features_v1` (race_id, driver_id and the stage's features);
    output: race_id, driver_id and `probability`, summing to 1 within each race."""

    def load_context(self, context: Any) -> None:
        with Path(context.artifacts["ensemble"]).open("rb") as handle:
            # our own artifact, from our registry
            self.ensemble: Ensemble = pickle.load(handle)  # noqa: S301  # nosec B301

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Win probabilities of each race's entrants."""
        return win_probabilities(self.ensemble, model_input)


def win_probabilities(ensemble: Ensemble, rows: pd.DataFrame) -> pd.DataFrame:
    """race_id, driver_id and the ensemble's `probability` for feature rows of races."""
    missing = sorted(set(ensemble.features) - set(rows.columns))
    if missing:
        raise ValueError(f"input lacks feature columns: {', '.join(missing)}")
    frame = rows.reset_index(drop=True)
    return pd.DataFrame(
        {
            "race_id": frame["race_id"].to_numpy(),
            "driver_id": frame["driver_id"].to_numpy(),
            "probability": ensemble.predict(frame)["ensemble"].to_numpy(),
        }
    )


class FinishingOrderModel(mlflow.pyfunc.PythonModel):
    """Input: a race's rows of `race_entry_features_v1` with `season`, `team_ref` and the
    winner model's `p_win`; output per row: win, podium, top6, points, dnf, expected_points,
    teammate_ahead and the position probabilities p1…p40 (models/order.py)."""

    def load_context(self, context: Any) -> None:
        with Path(context.artifacts["order"]).open("rb") as handle:
            # our own artifact, from our registry
            self.order: OrderModel = pickle.load(handle)  # noqa: S301  # nosec B301

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Every market of each race's entrants."""
        return self.order.markets(model_input)


def order_of(model: Any) -> OrderModel:
    """The fitted OrderModel inside a loaded pyfunc (or the OrderModel itself)."""
    if isinstance(model, OrderModel):
        return model
    return model.unwrap_python_model().order  # type: ignore[no-any-return]


def save_order(order: OrderModel, path: Path) -> Path:
    """Pickle the fitted order model for logging as the pyfunc's artifact."""
    with path.open("wb") as handle:
        pickle.dump(order, handle)
    return path


def ensemble_of(model: Any) -> Ensemble:
    """The fitted Ensemble inside a loaded pyfunc (or the Ensemble itself)."""
    if isinstance(model, Ensemble):
        return model
    return model.unwrap_python_model().ensemble  # type: ignore[no-any-return]


def probabilities(model: Any, rows: pd.DataFrame, stage: str) -> Any:
    """A loaded model's win probabilities for a race's feature rows (in their order)."""
    out = model.predict(rows[["race_id", "driver_id", *feature_names(stage)]])
    return out["probability"].to_numpy(dtype=float)


def explanations(model: Any, rows: pd.DataFrame, stage: str) -> list[list[dict[str, Any]]]:
    """Per row, the inputs that moved its probability most (raises ValueError when the
    model's forecast has no additive explanation)."""
    return ensemble_of(model).explain(rows[["race_id", "driver_id", *feature_names(stage)]])


@dataclass(frozen=True)
class LoadedModel:
    """A registry version as feature_store/predict.py's one path asks for it."""

    name: str
    version: str
    alias: str
    model: Any

    def probabilities(self, rows: pd.DataFrame, stage: str) -> Any:
        """The model's win probabilities, asked of the fitted ensemble directly: what the
        pyfunc's `predict` computes, without MLflow's input-schema enforcement on every call
        (a third of a race's answer); promotion checked the signature is the view's."""
        if isinstance(self.model, mlflow.pyfunc.PyFuncModel) and isinstance(
            self.model.unwrap_python_model(), WinnerModel
        ):
            ensemble = ensemble_of(self.model)
            missing = set(ensemble.features) - set(rows.columns)
            if missing:
                raise ValueError(f"input lacks feature columns: {', '.join(sorted(missing))}")
            return ensemble.forecast(rows)
        return probabilities(self.model, rows, stage)

    def explanations(self, rows: pd.DataFrame, stage: str) -> list[list[dict[str, Any]]]:
        return explanations(self.model, rows, stage)

    def markets(self, rows: pd.DataFrame) -> pd.DataFrame:
        """A finishing-order version's markets for rows carrying `p_win`."""
        return self.model.predict(rows)  # type: ignore[no-any-return]


def save_ensemble(ensemble: Ensemble, path: Path) -> Path:
    """Pickle the fitted ensemble for logging as the pyfunc's artifact."""
    with path.open("wb") as handle:
        pickle.dump(ensemble, handle)
    return path
