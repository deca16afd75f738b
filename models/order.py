"""The finishing-order model of a stage, as registered (`f1_order_{stage}`): the DNF model and
the placing temperature α. Given a race's feature rows and the winner model's P(win) for them,
it gives the race's distribution (models/distribution.py) and every market read off it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.distribution import DRAWS, Distribution, distribution
from models.dnf import DnfModel
from spec import Market, race_markets, scored_markets
from spec.points import points_system

MAX_POSITIONS = 40  # the widest field on record had 34 starters; position columns p1…p40


def market_columns() -> list[str]:
    """The columns of a race's markets (the spec's race markets, then expected points)."""
    return [*(m.column for m in race_markets()), "expected_points"]


def market_probability(market: Market, race: pd.DataFrame, d: Distribution) -> np.ndarray:
    """Per entrant of `race`, the probability of `market` under the distribution `d`: how the
    spec's `settles` reads it off the positions."""
    if market.settles == "top":
        return d.top(market.top)
    if market.settles == "points":
        return d.points
    if market.settles == "not_classified":
        return d.dnf
    if market.settles == "ahead_of_teammate":
        return teammate_ahead(race, d)
    raise ValueError(f"market {market.name!r} is not about one race's entrants")


def scored(
    positions: np.ndarray, place: np.ndarray, paying: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per scored market's column: (probability, happened as 0/1) of each entrant, from their
    position table (entrants × n + 1: P(k-th) for k = 1…n, then P(not classified)) and the
    place that happened (1…n, n + 1 not classified); `paying` the season's paying places."""
    n = positions.shape[1] - 1
    cumulative = np.cumsum(positions[:, :n], axis=1)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for market in scored_markets():
        if market.settles == "not_classified":
            p, y = positions[:, n], place == n + 1
        else:
            top = paying if market.settles == "points" else market.top
            p, y = cumulative[:, min(top, n) - 1], place <= top
        out[market.column] = (p, y.astype(float))
    return out


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
            **{m.column: market_probability(m, race, d) for m in race_markets()},
            "expected_points": d.expected_points,
        },
        index=race.index,
    )
    columns = pd.DataFrame(
        positions, index=race.index, columns=[f"p{k}" for k in range(1, MAX_POSITIONS + 1)]
    )
    return pd.concat([out, columns], axis=1)
