"""P(not classified) for each entrant of a race: a logistic regression on a few inputs, each a
point-in-time feature of the view or a within-race summary of them.

The field's recent retirement rate carries the era (more than half the cars in the bundled
1980s results were not classified, one in eight in the 2020s) and the circuit type; the
driver's and the car's own recent record and, once known, the grid slot (the back of the grid
meets the first-lap incidents) place the entrant against it. The fitting window (HISTORY) was
chosen on the 2006–2013 development window; the inputs were set by reasoning, not searched
(docs/MODELS.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spec import stage as spec_stage

# Fitted on the last HISTORY seasons only: on 2006–2013 the DNF log loss was 0.5033 / 0.4979
# (pre / post qualifying) fitted from 1981, 0.4999 / 0.4942 on 20 seasons, 0.4975 / 0.4925 on
# 10 and 0.4969 / 0.4925 on 5; retirements fell so much over the decades that the old ones
# mislead. 10 is kept (as many seasons as the baselines see; 5 is within 0.001).
HISTORY = 10
BASE_INPUTS = ("field_dnf", "driver_dnf", "team_dnf", "driver_starts_log", "street_circuit", "wet")
GRID_INPUTS = ("grid_share",)


def inputs(frame: pd.DataFrame, stage: str) -> pd.DataFrame:
    """The DNF model's inputs for feature rows of races (race_id, team_ref and the view's
    features)."""
    races = frame["race_id"]
    recent = frame["form5_dnf"].astype(float)
    field_rate = recent.groupby(races).transform("mean")
    out = pd.DataFrame(index=frame.index)
    out["field_dnf"] = field_rate.fillna(field_rate.mean() if field_rate.notna().any() else 0.2)
    out["driver_dnf"] = recent.fillna(out["field_dnf"])
    team = recent.groupby([races, frame["team_ref"]]).transform("mean")
    out["team_dnf"] = team.fillna(out["field_dnf"])
    out["driver_starts_log"] = np.log1p(frame["driver_starts"].astype(float).fillna(0.0))
    out["street_circuit"] = frame["street_circuit"].astype(float).fillna(0.0)
    out["wet"] = frame["wet"].astype(float).fillna(0.0)
    if spec_stage(stage).uses("qualifying"):
        grid = frame["grid"].astype(float)
        size = grid.groupby(races).transform("size")
        out["grid_share"] = (grid.fillna(size) / size).clip(0, 1.5)
        return out[list(BASE_INPUTS + GRID_INPUTS)]
    return out[list(BASE_INPUTS)]


@dataclass
class DnfModel:
    """Logistic regression of `dnf` (1: not classified) on `inputs`, standardised, L2."""

    stage: str
    c: float = 1.0
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intercept: float = 0.0
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.ones(0))

    @property
    def names(self) -> tuple[str, ...]:
        """The inputs, in coefficient order."""
        grid = GRID_INPUTS if spec_stage(self.stage).uses("qualifying") else ()
        return BASE_INPUTS + grid

    def fit(self, frame: pd.DataFrame) -> DnfModel:
        """Fit on labelled rows (the view's features and `dnf`)."""
        from sklearn.linear_model import LogisticRegression

        x = inputs(frame, self.stage).to_numpy(dtype=float)
        self.mean, self.scale = x.mean(axis=0), x.std(axis=0) + 1e-9
        model = LogisticRegression(C=self.c, max_iter=500)
        model.fit((x - self.mean) / self.scale, frame["dnf"].to_numpy(dtype=int))
        self.coef, self.intercept = model.coef_[0], float(model.intercept_[0])
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """P(not classified) per row."""
        x = (inputs(frame, self.stage).to_numpy(dtype=float) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))
