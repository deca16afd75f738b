"""Reference forecasts the models must beat, each fitted on the 10 seasons before the test.

- uniform: every entrant alike.
- pole: the pole-sitter (grid 1) gets the pole win rate, the others share the rest.
- grid: the win rate of each grid slot, normalised per race (slot 0 and no slot share one rate).
- leader: the championship leader before the race gets the leaders' win rate (pre_quali).
Rates are smoothed (+0.5 wins, +1 start) so no entrant is certain to lose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.probability import per_race

HISTORY = 10


def _rate(wins: float, starts: float) -> float:
    return (wins + 0.5) / (starts + 1.0)


def _favourite(test: pd.DataFrame, flag: pd.Series, rate: float) -> np.ndarray:
    n = test.groupby("race_id")["race_id"].transform("size").to_numpy()
    has = flag.groupby(test["race_id"]).transform("any").to_numpy()
    others = (1 - rate) / np.maximum(n - 1, 1)
    weights = np.where(has, np.where(flag.to_numpy(), rate, others), 1.0 / n)
    return per_race(test["race_id"].to_numpy(), weights)


def baselines(history: pd.DataFrame, test: pd.DataFrame, stage: str) -> dict[str, np.ndarray]:
    """Baseline probabilities for `test` rows, fitted on `history` (labelled rows, earlier)."""
    first = test["season"].min() - HISTORY
    past = history[(history["season"] >= first) & (history["season"] < test["season"].min())]
    races = test["race_id"].to_numpy()
    out = {"uniform": per_race(races, np.ones(len(test)))}
    pole = past["result_grid"] == 1
    out["pole"] = _favourite(
        test, test["result_grid"] == 1, _rate(past.loc[pole, "won"].sum(), pole.sum())
    )
    slot = past["result_grid"].fillna(0).astype(int)
    rates = past.groupby(slot)["won"].agg(["sum", "size"])
    table = {int(s): _rate(r["sum"], r["size"]) for s, r in rates.iterrows()}
    floor = min(table.values()) if table else 0.01
    test_slot = test["result_grid"].fillna(0).astype(int)
    out["grid"] = per_race(races, test_slot.map(lambda s: table.get(s, floor)).to_numpy())
    if stage == "pre_quali":
        leader = past["championship_position"] == 1
        out["leader"] = _favourite(
            test,
            test["championship_position"] == 1,
            _rate(past.loc[leader, "won"].sum(), leader.sum()),
        )
    return out
