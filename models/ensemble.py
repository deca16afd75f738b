"""The race-winner models: ELO, RandomForest, XGBoost and a conditional logit, and their pool.

- ELO: softmax over driver ELO / s within the race, the scale s fitted on training races.
- RandomForest: P(win) per (race, driver) row, normalised within the race.
- XGBoost: gradient-boosted trees trained with a per-race softmax objective (a boosted
  conditional logit): a row's score only matters relative to the other entrants of its race,
  so the model learns who beats whom instead of how often a row like this one wins.
- clogit: a conditional logit on a few within-race inputs (models/clogit.py).
- pool: a log-linear pool p ∝ Π p_k^(a·w_k), the weights w (summing to 1) and the calibration
  power a ≤ 1 (a pool may soften its bases, never sharpen them) fitted together on
  out-of-sample forecasts of the last training seasons: `validation_blocks` blocks of
  `block_seasons` seasons, each forecast by base models fitted on the seasons before it. Then
  the base models are refitted on everything. The tested seasons never take part.

`Recipe.serve` says which of xgb, clogit and pool is the model's forecast (`ensemble` in
`predict`'s output); the stage's entry in the spec (`Stage.model.served`) holds the choice made
on the development window (pipelines/develop.py) and only what it needs is fitted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize, minimize_scalar

from feature_store.view import feature_names
from models.clogit import ConditionalLogit
from models.probability import FLOOR, per_race, race_softmax, softmax
from spec import stage as spec_stage

log = logging.getLogger(__name__)
BASES = ("elo", "rf", "xgb", "clogit")
CANDIDATES = ("clogit", "xgb", "pool")  # what a model may serve, simplest first
# Compared within the race: rows are scored one at a time, but a race is won against the field.
RELATIVE = ("driver_elo", "team_elo", "form5_points", "season_points", "grid", "quali_gap_pct")


def _log_loss(frame: pd.DataFrame, probs: np.ndarray) -> float:
    won = frame["won"].to_numpy() == 1
    return float(-np.log(np.clip(probs[won], 1e-12, None)).mean())


@dataclass
class Recipe:
    """Hyper-parameters of one ensemble (one per stage)."""

    stage: str
    serve: str = ""  # one of CANDIDATES; "" = the stage's `model.served` in the spec
    validation_blocks: int = 2
    block_seasons: int = 2
    rf: dict[str, Any] = field(
        default_factory=lambda: {
            "n_estimators": 120,
            "max_samples": 0.5,
            "min_samples_leaf": 10,
            "max_features": 0.4,
            "n_jobs": 2,
            "random_state": 7,
        }
    )
    xgb: dict[str, Any] = field(
        default_factory=lambda: {
            "num_boost_round": 300,
            "max_depth": 2,
            "eta": 0.02,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "min_child_weight": 1.0,
            "reg_lambda": 1.0,
            "nthread": 2,
            "seed": 7,
            "tree_method": "hist",
        }
    )


class Ensemble:
    """Fit on labelled feature rows (race_id, season, features…, won); predict per race."""

    def __init__(self, recipe: Recipe) -> None:
        if recipe.serve and recipe.serve not in CANDIDATES:
            raise ValueError(f"unknown model {recipe.serve!r}: use one of {', '.join(CANDIDATES)}")
        self.recipe = recipe
        self.serve = recipe.serve or spec_stage(recipe.stage).model.served
        self.features = feature_names(recipe.stage)
        self.elo_scale = 100.0
        self.weights = {k: 1 / len(BASES) for k in BASES}
        self.power = 1.0
        self.validation: list[int] = []
        self._rf: Any = None
        self._xgb: Any = None
        self._clogit: ConditionalLogit | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; a model registered before the logit existed is a pool of ELO, RandomForest
        and XGBoost, and is served as one."""
        state.setdefault("serve", "pool")
        state.setdefault("_clogit", None)
        self.__dict__.update(state)

    @property
    def bases(self) -> tuple[str, ...]:
        """The base models this recipe fits: those of the pool, else the served one."""
        return tuple(self.weights) if self.serve == "pool" else (self.serve,)

    def fit(self, frame: pd.DataFrame) -> Ensemble:
        """Choose pool weights and calibration on out-of-sample forecasts of the last
        seasons, then refit the base models on all of them."""
        seasons = sorted(int(s) for s in frame["season"].unique())
        size = self.recipe.block_seasons
        blocks = [
            seasons[len(seasons) - size * (i + 1) : len(seasons) - size * i]
            for i in reversed(range(self.recipe.validation_blocks))
        ]
        if self.serve == "pool" and len(seasons) - size * len(blocks) >= 3:
            forecasts, held = [], []
            for block in blocks:
                self._fit_bases(frame[frame["season"] < block[0]])
                part = frame[frame["season"].isin(block)]
                forecasts.append(self.predict_bases(part))
                held.append(part)
            late = pd.concat(held)
            bases = {k: np.concatenate([f[k] for f in forecasts]) for k in BASES}
            self.weights, self.power = _choose(late, bases)
            self.validation = [s for block in blocks for s in block]
        self._fit_bases(frame)
        log.info(
            "%s model %s: pool weights %s, power %.2f, elo scale %.0f",
            self.recipe.stage,
            self.serve,
            {k: round(v, 2) for k, v in self.weights.items()},
            self.power,
            self.elo_scale,
        )
        return self

    def _fit_bases(self, frame: pd.DataFrame) -> None:
        import xgboost as xgb
        from sklearn.ensemble import RandomForestClassifier

        races, elo = frame["race_id"].to_numpy(), frame["driver_elo"].to_numpy()
        if "elo" in self.bases:
            fitted = minimize_scalar(
                lambda s: _log_loss(frame, softmax(races, elo / s)),
                bounds=(10, 1000),
                method="bounded",
            )
            self.elo_scale = float(fitted.x)
        if "clogit" in self.bases:
            self._clogit = ConditionalLogit(self.recipe.stage).fit(frame)
        x, y = self._matrix(frame), frame["won"].to_numpy()
        if "rf" in self.bases:
            self._rf = RandomForestClassifier(**self.recipe.rf).fit(x, y)
        if "xgb" not in self.bases:
            return
        codes, uniques = pd.factorize(races)
        count = len(uniques)

        def race_softmax_loss(margin: np.ndarray, data: Any) -> tuple[np.ndarray, np.ndarray]:
            p = race_softmax(codes, count, margin)
            return p - y, np.maximum(p * (1.0 - p), 1e-6)

        params = {k: v for k, v in self.recipe.xgb.items() if k != "num_boost_round"}
        self._xgb = xgb.train(
            {**params, "base_score": 0.0, "disable_default_eval_metric": 1},
            xgb.DMatrix(x, label=y, feature_names=self.columns),
            num_boost_round=self.recipe.xgb["num_boost_round"],
            obj=race_softmax_loss,
        )

    def predict_bases(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Each fitted base model's per-race probabilities."""
        races = frame["race_id"].to_numpy()
        out: dict[str, np.ndarray] = {}
        if "elo" in self.bases:
            out["elo"] = softmax(races, frame["driver_elo"].to_numpy() / self.elo_scale)
        if "rf" in self.bases or "xgb" in self.bases:
            x = self._matrix(frame)
        if "rf" in self.bases:
            out["rf"] = per_race(races, self._rf.predict_proba(x)[:, 1])
        if "xgb" in self.bases:
            import xgboost as xgb  # only when served (a second to import)

            margin = self._xgb.predict(
                xgb.DMatrix(x, feature_names=self.columns), output_margin=True
            )
            out["xgb"] = softmax(races, margin)
        if self._clogit is not None:
            out["clogit"] = softmax(races, self._clogit.logits(frame))
        return out

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Probabilities of every fitted base model, of the pool when fitted, and the served
        forecast as `ensemble` (each sums to 1 per race)."""
        bases = self.predict_bases(frame)
        races = frame["race_id"].to_numpy()
        out = dict(bases)
        if self.serve == "pool":
            out["pool"] = _pool(races, bases, self.weights, self.power)
        return pd.DataFrame({**out, "ensemble": out[self.serve]}, index=frame.index)

    def forecast(self, frame: pd.DataFrame) -> np.ndarray:
        """The served forecast alone (`predict(frame)["ensemble"]`): the conditional logit
        without the frame of every base (what the service computes per request)."""
        if self.serve == "clogit" and self._clogit is not None:
            return softmax(frame["race_id"].to_numpy(), self._clogit.logits(frame))
        return self.predict(frame)["ensemble"].to_numpy(dtype=float)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each input's share of each row's logit, relative to the average entrant of its race
        (the race's softmax ignores what all entrants share): β·(x − race mean) for the logit,
        SHAP values (XGBoost's `pred_contribs`) for the boosted trees. Raises ValueError for the
        pool, whose forecast is not one additive score."""
        import xgboost as xgb

        if self.serve == "clogit" and self._clogit is not None:
            parts = self._clogit.contributions(frame)
        elif self.serve == "xgb":
            shap = self._xgb.predict(
                xgb.DMatrix(self._matrix(frame), feature_names=self.columns), pred_contribs=True
            )
            parts = pd.DataFrame(shap[:, :-1], index=frame.index, columns=self.columns)
        else:
            raise ValueError(f"a {self.serve} forecast has no additive explanation")
        return parts - parts.groupby(frame["race_id"].to_numpy()).transform("mean")

    def explain(self, frame: pd.DataFrame, top: int = 3) -> list[list[dict[str, Any]]]:
        """Per row, the `top` inputs that moved its win probability most against the average
        entrant of its race: input, its words, its value and its contribution (log-odds)."""
        parts = self.contributions(frame)
        values = (
            self._clogit.values(frame)
            if self.serve == "clogit" and self._clogit is not None
            else pd.DataFrame(self._matrix(frame), index=frame.index, columns=self.columns)
        )
        out = []
        for index, row in parts.iterrows():
            largest = row.abs().sort_values(ascending=False, kind="stable").index[:top]
            out.append(
                [
                    {
                        "feature": name,
                        "words": describe(name),
                        "value": float(values.at[index, name]),
                        "contribution": float(row[name]),
                    }
                    for name in largest
                ]
            )
        return out

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
        """Feature importance per fitted model, each column summing to 1: impurity for the
        forest, total gain for the boosted trees, |β| (per standard deviation) for the logit."""
        columns: dict[str, pd.Series] = {}
        if self._rf is not None and "rf" in self.bases:
            columns["rf"] = pd.Series(self._rf.feature_importances_, index=self.columns)
        if self._xgb is not None and "xgb" in self.bases:
            gain = self._xgb.get_score(importance_type="total_gain")
            boosted = pd.Series([gain.get(c, 0.0) for c in self.columns], index=self.columns)
            columns["xgb"] = boosted / boosted.sum() if boosted.sum() > 0 else boosted
        if self._clogit is not None:
            size = pd.Series(self._clogit.coefficients()).abs()
            columns["clogit"] = size / size.sum() if size.sum() > 0 else size
        frame = pd.DataFrame(columns)
        order = [*self.columns, *(self._clogit.columns if self._clogit else [])]
        return frame.reindex([c for c in dict.fromkeys(order) if c in frame.index])


def describe(column: str) -> str:
    """A model input in the words of the feature view's documentation."""
    from feature_store.view import FEATURES
    from models.inputs import WORDS

    if column in WORDS:
        return WORDS[column]
    meaning = {f.name: f.meaning for f in FEATURES}
    for suffix, words in (("_vs_best", "{} against the field's best"), ("_rank", "rank of {}")):
        if column.endswith(suffix) and column[: -len(suffix)] in meaning:
            return words.format(meaning[column[: -len(suffix)]])
    return meaning.get(column, column)


def _pool(
    races: np.ndarray, bases: dict[str, np.ndarray], weights: dict[str, float], power: float
) -> np.ndarray:
    """Log-linear pool: softmax of power · Σ w_k log p_k within each race."""
    logits = sum(weights[k] * np.log(np.clip(bases[k], FLOOR, None)) for k in weights)
    return softmax(races, power * np.asarray(logits))


def _choose(frame: pd.DataFrame, bases: dict[str, np.ndarray]) -> tuple[dict[str, float], float]:
    """Pool weights (≥ 0, summing to 1) and calibration power (≤ 1) minimising log loss on
    `frame`: fitted as non-negative exponents b_k with Σ b_k ≤ 1, then power = Σ b_k and
    w_k = b_k / power."""
    races = frame["race_id"].to_numpy()

    def loss(exponents: np.ndarray) -> float:
        weights = dict(zip(BASES, exponents, strict=True))
        return _log_loss(frame, _pool(races, bases, weights, 1.0))

    start = np.full(len(BASES), 1.0 / len(BASES))
    fitted = minimize(
        loss,
        start,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(BASES),
        constraints=[{"type": "ineq", "fun": lambda b: 1.0 - b.sum()}],
    )
    power = float(min(fitted.x.sum(), 1.0))
    if power <= 0:
        return {k: 1 / len(BASES) for k in BASES}, 1.0
    total = float(fitted.x.sum())
    return {k: float(b) / total for k, b in zip(BASES, fitted.x, strict=True)}, power
