"""The finishing-order model of a stage, as registered (`f1_order_{stage}`): the DNF model and
the placing temperature α. Given a race's feature rows and the winner model's P(win) for them,
it gives the race's distribution (models/distribution.py) and every market read off it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.distribution import DRAWS, Distribution, distribution
from models.dnf import DnfModel
from spec.points import points_system

MAX_POSITIONS = 40  # the widest field on record had 34 starters; position columns p1…p40
MARKET_COLUMNS = ("win", "podium", "top6", "points", "dnf", "expected_points", "teammate_ahead")


@dataclass
class OrderModel:
    """A fitted DNF model and α, for one stage."""

    stage: str
    dnf: DnfModel
    alpha: float
    draws: int = DRAWS

    def race(self, rows: pd.DataFrame, p_win: np.ndarray) -> Distribution:
        """One race's distribution: `rows` its entrants' feature rows, `p_win` the winner
        model's probabilities for them (in the same order)."""
        season = int(rows["season"].iloc[0])
        q = self.dnf.predict(rows)
        return distribution(p_win, q, points_system(season), self.alpha, self.draws)

    def markets(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Per row (race_id, driver_id, the view's features and `p_win`): every market, the
        position probabilities p1…p40, and P(ahead of the teammate) when there is exactly one."""
        parts = []
        frame = rows.reset_index(drop=True)
        for _, race in frame.groupby("race_id", sort=False):
            d = self.race(race, race["p_win"].to_numpy(dtype=float))
            parts.append(market_frame(race, d))
        return pd.concat(parts).loc[frame.index].reset_index(drop=True)


def teammate_ahead(race: pd.DataFrame, d: Distribution) -> np.ndarray:
    """Per entrant, P(finishing ahead of the teammate), NaN without exactly one teammate."""
    teams = race["team_ref"].to_numpy()
    out = np.full(len(race), np.nan)
    for i, team in enumerate(teams):
        mates = np.flatnonzero(teams == team)
        if len(mates) == 2:
            out[i] = d.ahead[i, mates[mates != i][0]]
    return out


def market_frame(race: pd.DataFrame, d: Distribution) -> pd.DataFrame:
    """The markets of one race's entrants, indexed like `race`."""
    n = len(race)
    positions = np.zeros((n, MAX_POSITIONS))
    positions[:, : min(n, MAX_POSITIONS)] = d.position[:, :MAX_POSITIONS]
    out = pd.DataFrame(
        {
            "race_id": race["race_id"].to_numpy(),
            "driver_id": race["driver_id"].to_numpy(),
            "win": d.win,
            "podium": d.podium,
            "top6": d.top6,
            "points": d.points,
            "dnf": d.dnf,
            "expected_points": d.expected_points,
            "teammate_ahead": teammate_ahead(race, d),
        },
        index=race.index,
    )
    columns = pd.DataFrame(
        positions, index=race.index, columns=[f"p{k}" for k in range(1, MAX_POSITIONS + 1)]
    )
    return pd.concat([out, columns], axis=1)
