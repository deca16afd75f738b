"""A conditional logit: P(driver i wins race r) = softmax over r's entrants of β·x_i.

The inputs are few and compared within the race (a rating only matters against the field).
They let the model learn, within a season, how much the past is worth:
- the team's rating carried over from earlier seasons counts in proportion to how well it
  agrees with this race's qualifying order (squared, none when it disagrees): a new pecking
  order on the grid silences it;
- the team's rating within the current technical era restarts level when the rules change;
- this season's qualifying pace of the car gains weight with each race run (n / (n + 3));
- the driver's own part is his rating against his teammates, which a new car does not reset;
- the grid counts more in a new era's first races (−log grid × era_opening);
- how much the grid and pole count is refitted on the last RECENT_SEASONS seasons (the
  stage's `refit_recent` in the spec), the other inputs held: how often pole wins changes
  with the cars and the rules.
Fitted by L-BFGS on the race-softmax log loss with a small ridge penalty on standardised
inputs; coefficient × value explains each prediction exactly.

Each input is declared once in models/inputs.py (its words, its unit and how it is computed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from models.inputs import INPUTS_BY_NAME, LEGACY_INPUTS, input_matrix
from models.probability import race_softmax
from spec import stage as spec_stage

# the seasons a stage's `refit_recent` inputs (spec: chosen on 2006–2013) are refitted on
RECENT_SEASONS = 5


@dataclass
class ConditionalLogit:
    """β on standardised inputs; `ridge` is the L2 penalty per race."""

    stage: str
    ridge: float = 0.01
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.ones(0))
    names: tuple[str, ...] = ()  # the inputs it was fitted on (default: the stage's)

    def __post_init__(self) -> None:
        self.names = self.names or spec_stage(self.stage).model.inputs

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; a logit registered before its inputs were stored used LEGACY_INPUTS."""
        state.setdefault("names", LEGACY_INPUTS.get(state["stage"], ()))
        self.__dict__.update(state)

    @property
    def columns(self) -> list[str]:
        return list(self.names)

    def fit(self, frame: pd.DataFrame) -> ConditionalLogit:
        """Maximise the winners' likelihood over the labelled races of `frame`."""
        x = input_matrix(frame, self.names)
        self.mean, self.scale = x.mean(axis=0), x.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        z = (x - self.mean) / self.scale
        codes, uniques = pd.factorize(frame["race_id"].to_numpy())
        count = len(uniques)
        won = frame["won"].to_numpy(dtype=float)
        self.coef = _fit(z, codes, count, won, np.zeros(z.shape[1]), self.ridge)
        refitted = spec_stage(self.stage).model.refit_recent
        recent = [self.columns.index(name) for name in refitted if name in self.names]
        late = frame["season"].to_numpy() > frame["season"].max() - RECENT_SEASONS
        if recent and late.any():
            self.coef[recent] = self._refit(z[late], frame[late], recent)
        return self

    def _refit(self, z: np.ndarray, frame: pd.DataFrame, which: list[int]) -> np.ndarray:
        """The coefficients `which` fitted on these rows, the others' contribution held (the
        ridge pulls toward the values fitted on every season)."""
        others = [i for i in range(len(self.coef)) if i not in which]
        offset = z[:, others] @ self.coef[others]
        codes, uniques = pd.factorize(frame["race_id"].to_numpy())
        won = frame["won"].to_numpy(dtype=float)
        return _fit(z[:, which], codes, len(uniques), won, self.coef[which], self.ridge, offset)

    def values(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The inputs in the units WORDS names (the grid slot, ELO points…)."""
        shown = pd.DataFrame(
            input_matrix(frame, self.names), index=frame.index, columns=self.columns
        )
        for column in shown.columns:
            shown[column] = shown[column] * INPUTS_BY_NAME[column].shown
        if "neg_log_grid" in shown:
            shown["neg_log_grid"] = np.exp(-shown["neg_log_grid"])
        return shown

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """β_k · z_k per row and input (the logit is their sum)."""
        z = (input_matrix(frame, self.names) - self.mean) / self.scale
        return pd.DataFrame(z * self.coef, index=frame.index, columns=self.columns)

    def logits(self, frame: pd.DataFrame) -> np.ndarray:
        """β·z per row (the contributions' sum, in numpy: the service's path)."""
        z = (input_matrix(frame, self.names) - self.mean) / self.scale
        return np.asarray(z @ self.coef)

    def coefficients(self) -> dict[str, float]:
        """β per input, per standard deviation of the input."""
        return dict(zip(self.columns, (float(b) for b in self.coef), strict=True))


def _fit(
    z: np.ndarray,
    codes: np.ndarray,
    count: int,
    won: np.ndarray,
    prior: np.ndarray,
    ridge: float,
    offset: np.ndarray | float = 0.0,
) -> np.ndarray:
    """β maximising the winners' likelihood (per race) of softmax(offset + z·β) within each
    race, with the L2 penalty ridge · |β − prior|²."""
    races = max(float(won.sum()), 1.0)

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        p = race_softmax(codes, count, offset + z @ beta)
        value = -np.log(np.clip(p[won == 1], 1e-300, None)).sum() / races
        gradient = z.T @ (p - won) / races
        away = beta - prior
        return value + ridge * away @ away, gradient + 2 * ridge * away

    return np.asarray(minimize(loss, prior.copy(), jac=True, method="L-BFGS-B").x)
