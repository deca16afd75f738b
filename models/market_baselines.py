"""Reference forecasts for every market of the finishing-order distribution, and the scores.

- `keyed`: the empirical rates of each value of a key, fitted on the seasons before the test:
  the grid slot after qualifying (grid-only), the championship position before it
  (championship order). Each key value gets its distribution over finishing positions and
  "not classified", smoothed towards the overall one; every market is read off it. A
  teammate head-to-head goes to the teammate with the better key at the rate the better-keyed
  teammate finished ahead in the fitted seasons.
- `uniform`: every entrant alike (the fitted seasons' retirement rate, the rest of the
  positions shared equally); a head-to-head is 50/50.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EPS = 1e-6
MAX_KEY = 30
SMOOTHING = 5.0  # pseudo-rows of the overall distribution added to each key value's


def categories(frame: pd.DataFrame, size: int) -> np.ndarray:
    """Each row's outcome as a category 0…size: its classified position − 1, capped at
    size − 1, or `size` when not classified."""
    position = frame["position"].astype(float)
    return np.where(position.isna(), size, np.minimum(position.fillna(1) - 1, size - 1)).astype(int)


def _key(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column].astype(float).fillna(0).to_numpy()
    return np.clip(np.where(values < 1, 0, values), 0, MAX_KEY).astype(int)  # 0: none


@dataclass(frozen=True)
class Reference:
    """One baseline's position distributions (rows: entrants, cols: positions 1…n, then
    not classified) and its teammate head-to-head rate."""

    name: str
    table: np.ndarray  # (MAX_KEY + 1, size + 1) for keyed, (1, size + 1) for uniform
    column: str | None
    ahead_rate: float

    def positions(self, race: pd.DataFrame) -> np.ndarray:
        """(n, n + 1): P(position k) for k = 1…n, then P(not classified)."""
        n = len(race)
        rows = self.table[_key(race, self.column)] if self.column else self.table[[0] * n]
        size = rows.shape[1] - 1
        if size >= n:  # positions past the field's size fold into the last one
            kept = np.concatenate(
                [rows[:, : n - 1], rows[:, n - 1 : size].sum(axis=1, keepdims=True)], axis=1
            )
        else:
            kept = np.concatenate([rows[:, :size], np.zeros((n, n - size))], axis=1)
        out = np.concatenate([kept, rows[:, size:]], axis=1)
        return out / out.sum(axis=1, keepdims=True)

    def ahead(self, race: pd.DataFrame, a: int, b: int) -> float:
        """P(row a finishes ahead of row b) for teammates."""
        if self.column is None:
            return 0.5
        keys = _key(race, self.column)
        ka, kb = keys[a] or MAX_KEY + 1, keys[b] or MAX_KEY + 1
        if ka == kb:
            return 0.5
        return self.ahead_rate if ka < kb else 1.0 - self.ahead_rate


def fit_keyed(history: pd.DataFrame, column: str, name: str, size: int = 30) -> Reference:
    """The empirical rates by `column` (grid slot, championship position) in `history`."""
    outcome = categories(history, size)
    keys = _key(history, column)
    overall = np.bincount(outcome, minlength=size + 1).astype(float)
    overall /= overall.sum()
    counts = np.zeros((MAX_KEY + 1, size + 1))
    np.add.at(counts, (keys, outcome), 1.0)
    table = (counts + SMOOTHING * overall) / (counts.sum(axis=1, keepdims=True) + SMOOTHING)
    return Reference(name, table, column, _ahead_rate(history, column))


def fit_uniform(history: pd.DataFrame, size: int = 30) -> Reference:
    """Every entrant alike: the fitted rows' retirement rate, positions shared equally."""
    dnf = float(history["position"].isna().mean())
    table = np.full((1, size + 1), (1 - dnf) / size)
    table[0, size] = dnf
    return Reference("uniform", table, None, 0.5)


def _ahead_rate(history: pd.DataFrame, column: str) -> float:
    better = worse = 0
    for (_, _), pair in history.groupby(["race_id", "team_ref"]):
        if len(pair) != 2:
            continue
        keys = _key(pair, column)
        keys = np.where(keys == 0, MAX_KEY + 1, keys)
        if keys[0] == keys[1]:
            continue
        first = int(np.argmin(keys))
        orders = pair["finish_order"].to_numpy()
        if orders[first] < orders[1 - first]:
            better += 1
        else:
            worse += 1
    return (better + 1) / (better + worse + 2)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def brier(p: np.ndarray, y: np.ndarray) -> float:
    return float(((p - y) ** 2).mean())


def rps(positions: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Ranked probability score per row: `positions` (rows, K) over ordered categories (the
    last is not classified), `outcome` the category index per row."""
    k = positions.shape[1]
    cumulative = np.cumsum(positions, axis=1)[:, :-1]
    observed = (np.arange(k - 1)[None, :] >= outcome[:, None]).astype(float)
    return ((cumulative - observed) ** 2).sum(axis=1) / (k - 1)
