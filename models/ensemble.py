"""The race-winner ensemble: ELO, RandomForest and XGBoost, pooled and calibrated.

- ELO: softmax over driver ELO / s within the race, the scale s fitted on training races.
- RandomForest and XGBoost: P(win) per (race, driver) row, normalised within the race.
- Ensemble: a linear pool Σ w_k p_k whose weights (on a 0.1 grid of the simplex) and a power
  calibration p^a are chosen on the last `validation_seasons` of the training data, with base
  models fitted on the seasons before them; then the base models are refitted on everything.
  The tested seasons never take part.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from feature_store.view import feature_names
from models.probability import per_race, sharpen, softmax

log = logging.getLogger(__name__)
BASES = ("elo", "rf", "xgb")
# Compared within the race: rows are scored one at a time, but a race is won against the field.
RELATIVE = ("driver_elo", "team_elo", "form5_points", "season_points", "grid", "quali_gap_pct")


def _log_loss(frame: pd.DataFrame, probs: np.ndarray) -> float:
    won = frame["won"].to_numpy() == 1
    return float(-np.log(np.clip(probs[won], 1e-12, None)).mean())


@dataclass
class Recipe:
    """Hyper-parameters of one ensemble (one per stage)."""

    stage: str
    validation_seasons: int = 2
    rf: dict[str, Any] = field(
        default_factory=lambda: {
            "n_estimators": 200,
            "min_samples_leaf": 10,
            "max_features": 0.4,
            "n_jobs": 2,
            "random_state": 7,
        }
    )
    xgb: dict[str, Any] = field(
        default_factory=lambda: {
            "n_estimators": 250,
            "max_depth": 4,
            "learning_rate": 0.05,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "min_child_weight": 3,
            "n_jobs": 2,
            "random_state": 7,
            "tree_method": "hist",
        }
    )


class Ensemble:
    """Fit on labelled feature rows (race_id, season, features…, won); predict per race."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.features = feature_names(recipe.stage)
        self.elo_scale = 100.0
        self.weights = {"elo": 1 / 3, "rf": 1 / 3, "xgb": 1 / 3}
        self.power = 1.0
        self._rf: Any = None
        self._xgb: Any = None

    def fit(self, frame: pd.DataFrame) -> Ensemble:
        """Choose weights and calibration on the last seasons, then refit on all of them."""
        seasons = sorted(frame["season"].unique())
        held = seasons[-self.recipe.validation_seasons :]
        early, late = frame[~frame["season"].isin(held)], frame[frame["season"].isin(held)]
        if early["season"].nunique() >= 3 and not late.empty:
            self._fit_bases(early)
            bases = self.predict_bases(late)
            self.weights, self.power = _choose(late, bases)
        self._fit_bases(frame)
        log.info(
            "ensemble %s: weights %s, power %.2f, elo scale %.0f",
            self.recipe.stage,
            {k: round(v, 2) for k, v in self.weights.items()},
            self.power,
            self.elo_scale,
        )
        return self

    def _fit_bases(self, frame: pd.DataFrame) -> None:
        from sklearn.ensemble import RandomForestClassifier
        from xgboost import XGBClassifier

        races, elo = frame["race_id"].to_numpy(), frame["driver_elo"].to_numpy()
        fitted = minimize_scalar(
            lambda s: _log_loss(frame, softmax(races, elo / s)), bounds=(10, 1000), method="bounded"
        )
        self.elo_scale = float(fitted.x)
        x, y = self._matrix(frame), frame["won"].to_numpy()
        self._rf = RandomForestClassifier(**self.recipe.rf).fit(x, y)
        self._xgb = XGBClassifier(**self.recipe.xgb).fit(x, y)

    def predict_bases(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each base model's per-race probabilities."""
        races = frame["race_id"].to_numpy()
        x = self._matrix(frame)
        return {
            "elo": softmax(races, frame["driver_elo"].to_numpy() / self.elo_scale),
            "rf": per_race(races, self._rf.predict_proba(x)[:, 1]),
            "xgb": per_race(races, self._xgb.predict_proba(x)[:, 1]),
        }

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Probabilities of every base model and of the ensemble (each sums to 1 per race)."""
        bases = self.predict_bases(frame)
        races = frame["race_id"].to_numpy()
        pooled = per_race(races, sum(self.weights[k] * bases[k] for k in BASES))
        return pd.DataFrame(
            {**bases, "ensemble": sharpen(races, pooled, self.power)}, index=frame.index
        )

    @property
    def columns(self) -> list[str]:
        """The tree models' inputs: the view's features and their within-race comparisons."""
        relative = [c for c in RELATIVE if c in self.features]
        return [
            *self.features,
            *(f"{c}_vs_best" for c in relative),
            *(f"{c}_rank" for c in relative),
        ]

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        races = frame["race_id"]
        extra = {}
        for column in (c for c in RELATIVE if c in self.features):
            values = frame[column].astype(float)
            lower_is_better = column in ("grid", "quali_gap_pct")
            best = values.groupby(races).transform("min" if lower_is_better else "max")
            extra[f"{column}_vs_best"] = values - best
            extra[f"{column}_rank"] = values.groupby(races).rank(ascending=lower_is_better)
        matrix = pd.concat([frame[self.features].astype(float), pd.DataFrame(extra)], axis=1)
        return matrix[self.columns].to_numpy(dtype=float)

    def importances(self) -> pd.DataFrame:
        """Feature importance of the two tree models (each sums to 1)."""
        return pd.DataFrame(
            {"rf": self._rf.feature_importances_, "xgb": self._xgb.feature_importances_},
            index=self.columns,
        )


def _choose(frame: pd.DataFrame, bases: dict[str, np.ndarray]) -> tuple[dict[str, float], float]:
    """Pool weights (0.1 grid) and calibration power minimising log loss on `frame`."""
    races = frame["race_id"].to_numpy()
    best: tuple[float, dict[str, float], float] | None = None
    steps = [i / 10 for i in range(11)]
    for w_elo, w_rf in itertools.product(steps, steps):
        if w_elo + w_rf > 1 + 1e-9:
            continue
        weights = {"elo": w_elo, "rf": w_rf, "xgb": round(1 - w_elo - w_rf, 10)}
        pooled = per_race(races, sum(weights[k] * bases[k] for k in BASES))
        fitted = minimize_scalar(
            lambda a, p=pooled: _log_loss(frame, sharpen(races, p, a)),
            bounds=(0.3, 3.0),
            method="bounded",
        )
        if best is None or fitted.fun < best[0]:
            best = (float(fitted.fun), weights, float(fitted.x))
    assert best is not None
    return best[1], best[2]
