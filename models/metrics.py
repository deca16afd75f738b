"""How good a race-winner forecast is: accuracy, log loss, Brier and calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BINS = 10


def score(frame: pd.DataFrame, prob: str = "prob") -> dict[str, Any]:
    """Metrics over races; `frame` has race_id, won (0/1) and the probability column.

    top1: the favourite won; top3: the winner was among the three favourites; log_loss: mean
    −ln p(winner); brier: mean squared error over every entry; ece: expected calibration error
    over 10 equal-width bins; races: races scored (races with exactly one winner among entries).
    """
    frame = frame[["race_id", "won", prob]].rename(columns={prob: "p"})
    winners = frame.groupby("race_id")["won"].transform("sum")
    frame = frame[winners == 1]
    if frame.empty:
        return {
            "top1": None,
            "top3": None,
            "log_loss": None,
            "brier": None,
            "ece": None,
            "races": 0,
            "reliability": [],
        }
    rank = frame.groupby("race_id")["p"].rank(ascending=False, method="first")
    won = frame["won"] == 1
    table = reliability(frame["p"].to_numpy(), frame["won"].to_numpy())
    total = sum(row["n"] for row in table)
    return {
        "top1": float((rank[won] <= 1).mean()),
        "top3": float((rank[won] <= 3).mean()),
        "log_loss": float(-np.log(frame.loc[won, "p"]).mean()),
        "brier": float(((frame["p"] - frame["won"]) ** 2).mean()),
        "ece": float(sum(row["n"] * abs(row["mean_p"] - row["rate"]) for row in table) / total),
        "races": int(won.sum()),
        "reliability": table,
    }


def reliability(probs: np.ndarray, outcomes: np.ndarray, bins: int = BINS) -> list[dict[str, Any]]:
    """Per probability bin: entries, mean forecast, observed win rate."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            table.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(inside.sum()),
                    "mean_p": float(probs[inside].mean()),
                    "rate": float(outcomes[inside].mean()),
                }
            )
    return table
