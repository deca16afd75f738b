"""A conditional logit: P(driver i wins race r) = softmax over r's entrants of β·x_i.

The inputs are few and compared within the race (a rating only matters against the field).
Two of them let the model learn how much carried-over ratings are worth: the ELO differences
again, times the view's `era_opening` (1 at round 1 of a season that opens a new technical era,
0 from round 11 and in other seasons). A negative coefficient there discounts the ratings
carried over a rule change. Fitted by L-BFGS on the race-softmax log loss with a small ridge
penalty on standardised inputs; coefficient × value explains each prediction exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from models.probability import race_softmax
from spec import stage as spec_stage

GAP_CAP = 10.0  # % of pole; slower laps (or none) count as 10 %

INPUTS: dict[str, tuple[str, ...]] = {
    "pre_quali": (
        "driver_elo_vs_best",
        "team_elo_vs_best",
        "driver_elo_vs_best_era",
        "team_elo_vs_best_era",
        "form5_points_vs_best",
        "season_points_vs_best",
        "form5_dnf",
        "quali_pace_vs_best",
        "team_quali_pace_vs_best",
    ),
    "post_quali": (
        "neg_log_grid",
        "pole",
        "p2",
        "quali_gap",
        "driver_elo_vs_best",
        "team_elo_vs_best",
        "driver_elo_vs_best_era",
        "team_elo_vs_best_era",
    ),
}
# Each input in words, and the factor that turns it back into the unit shown beside it.
WORDS = {
    "neg_log_grid": "grid position",
    "pole": "starting from pole (1 = yes)",
    "p2": "starting second (1 = yes)",
    "quali_gap": "qualifying gap to pole (% of the pole lap)",
    "driver_elo_vs_best": "driver ELO against the field's best (points)",
    "team_elo_vs_best": "team ELO against the field's best (points)",
    "driver_elo_vs_best_era": "driver ELO carried into a new era's first races (points, weighted)",
    "team_elo_vs_best_era": "team ELO carried into a new era's first races (points, weighted)",
    "form5_points_vs_best": "mean points over the last 5 races against the field's best",
    "season_points_vs_best": "championship points against the leader",
    "form5_dnf": "share of the last 5 races not finished",
    "quali_pace_vs_best": "recent qualifying pace behind the field's best (% of pole)",
    "team_quali_pace_vs_best": "the car's recent qualifying pace behind the best car (% of pole)",
    "teammate_quali_gap": "recent qualifying gap to the teammate (% of pole; negative: faster)",
    "team_pit_delta": "the team's recent pit stops against the race's median stop (s)",
}
SHOWN = {
    "driver_elo_vs_best": 100.0,
    "team_elo_vs_best": 100.0,
    "driver_elo_vs_best_era": 100.0,
    "team_elo_vs_best_era": 100.0,
    "form5_points_vs_best": 10.0,
    "season_points_vs_best": 25.0,
}


def _inputs(frame: pd.DataFrame, stage: str) -> dict[str, np.ndarray]:
    """The stage's logit inputs by name, each compared within its race. In numpy (a race's
    best by `ufunc.at` on race codes): the service computes one race per request, where
    pandas' groupby costs milliseconds."""
    codes, uniques = pd.factorize(frame["race_id"].to_numpy())

    def column(name: str) -> np.ndarray:
        return frame[name].to_numpy(dtype=float, na_value=np.nan)

    def best(values: np.ndarray, reduce: np.ufunc) -> np.ndarray:
        """Each row's race's max (np.fmax) or min (np.fmin), NaN ignored (NaN if all are)."""
        found = np.full(len(uniques), -np.inf if reduce is np.fmax else np.inf)
        reduce.at(found, codes, values)
        found[np.isinf(found)] = np.nan
        return found[codes]

    def vs_best(name: str, scale: float) -> np.ndarray:
        values = np.nan_to_num(column(name), nan=0.0)
        return (values - best(values, np.fmax)) / scale

    def behind_best(name: str) -> np.ndarray:  # lower is better; unknown: the field's worst
        values = column(name)
        values = np.where(np.isnan(values), best(values, np.fmax), values)
        values = np.nan_to_num(values, nan=GAP_CAP)
        return values - best(values, np.fmin)

    out: dict[str, np.ndarray] = {}
    out["quali_pace_vs_best"] = behind_best("quali_pace3")
    out["team_quali_pace_vs_best"] = behind_best("team_quali_pace3")
    out["driver_elo_vs_best"] = vs_best("driver_elo", 100.0)
    out["team_elo_vs_best"] = vs_best("team_elo", 100.0)
    era = np.nan_to_num(column("era_opening"), nan=0.0)
    out["driver_elo_vs_best_era"] = out["driver_elo_vs_best"] * era
    out["team_elo_vs_best_era"] = out["team_elo_vs_best"] * era
    if not spec_stage(stage).uses("qualifying"):
        out["form5_points_vs_best"] = vs_best("form5_points", 10.0)
        out["season_points_vs_best"] = vs_best("season_points", 25.0)
        out["form5_dnf"] = np.nan_to_num(column("form5_dnf"), nan=0.0)
    else:
        grid = np.clip(column("grid"), 1, None)
        out["neg_log_grid"] = -np.log(grid)
        out["pole"] = (grid == 1).astype(float)
        out["p2"] = (grid == 2).astype(float)
        out["quali_gap"] = np.clip(np.nan_to_num(column("quali_gap_pct"), nan=GAP_CAP), None,
                                   GAP_CAP)  # fmt: skip
    return out


def inputs(frame: pd.DataFrame, stage: str) -> pd.DataFrame:
    """The stage's logit inputs for feature rows of races (race_id and the view's features),
    each compared within its race."""
    out = _inputs(frame, stage)
    return pd.DataFrame({name: out[name] for name in INPUTS[stage]}, index=frame.index)


def input_matrix(frame: pd.DataFrame, stage: str) -> np.ndarray:
    """`inputs` as a (rows, inputs) array, without building a frame."""
    out = _inputs(frame, stage)
    return np.column_stack([out[name] for name in INPUTS[stage]])


@dataclass
class ConditionalLogit:
    """β on standardised inputs; `ridge` is the L2 penalty per race."""

    stage: str
    ridge: float = 0.01
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.ones(0))

    @property
    def columns(self) -> list[str]:
        return list(INPUTS[self.stage])

    def fit(self, frame: pd.DataFrame) -> ConditionalLogit:
        """Maximise the winners' likelihood over the labelled races of `frame`."""
        x = inputs(frame, self.stage).to_numpy(dtype=float)
        self.mean, self.scale = x.mean(axis=0), x.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        z = (x - self.mean) / self.scale
        codes, uniques = pd.factorize(frame["race_id"].to_numpy())
        count = len(uniques)
        won = frame["won"].to_numpy(dtype=float)
        races = max(float(won.sum()), 1.0)

        def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
            p = race_softmax(codes, count, z @ beta)
            value = -np.log(np.clip(p[won == 1], 1e-300, None)).sum() / races
            gradient = z.T @ (p - won) / races
            penalty = self.ridge * beta @ beta
            return value + penalty, gradient + 2 * self.ridge * beta

        fitted = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
        self.coef = fitted.x
        return self

    def values(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The inputs in the units WORDS names (the grid slot, ELO points…)."""
        shown = inputs(frame, self.stage)
        for column, factor in SHOWN.items():
            if column in shown:
                shown[column] = shown[column] * factor
        if "neg_log_grid" in shown:
            shown["neg_log_grid"] = np.exp(-shown["neg_log_grid"])
        return shown

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """β_k · z_k per row and input (the logit is their sum)."""
        z = (inputs(frame, self.stage).to_numpy(dtype=float) - self.mean) / self.scale
        return pd.DataFrame(z * self.coef, index=frame.index, columns=self.columns)

    def logits(self, frame: pd.DataFrame) -> np.ndarray:
        """β·z per row (the contributions' sum, in numpy: the service's path)."""
        z = (input_matrix(frame, self.stage) - self.mean) / self.scale
        return np.asarray(z @ self.coef)

    def coefficients(self) -> dict[str, float]:
        """β per input, per standard deviation of the input."""
        return dict(zip(self.columns, (float(b) for b in self.coef), strict=True))
