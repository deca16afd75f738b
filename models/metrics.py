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


DRAWS = 2000
LOWER_IS_BETTER = {"log_loss": True, "brier": True, "top1": False}


def race_scores(frame: pd.DataFrame, prob: str) -> pd.DataFrame:
    """Per race with exactly one winner among its entries: log loss of the winner's
    probability, mean per-entry Brier, whether the favourite won (indexed by race_id)."""
    frame = frame[["race_id", "won", prob]].rename(columns={prob: "p"})
    frame = frame[frame.groupby("race_id")["won"].transform("sum") == 1]
    frame = frame.assign(
        sq=(frame["p"] - frame["won"]) ** 2,
        rank=frame.groupby("race_id")["p"].rank(ascending=False, method="first"),
    )
    winners = frame[frame["won"] == 1].set_index("race_id")
    return pd.DataFrame(
        {
            "log_loss": -np.log(np.clip(winners["p"], 1e-12, None)),
            "brier": frame.groupby("race_id")["sq"].mean().reindex(winners.index),
            "top1": (winners["rank"] <= 1).astype(float),
        }
    )


def paired_bootstrap(
    frame: pd.DataFrame, a: str, b: str, draws: int = DRAWS, seed: int = 7
) -> dict[str, Any]:
    """Forecast `a` against `b` on the same races: per metric, the mean difference a − b, its
    95% interval over `draws` resamplings of the races (with replacement, pairs kept), and
    P(a better): the share of resamplings in which a scores better."""
    left, right = race_scores(frame, a), race_scores(frame, b)
    common = left.index.intersection(right.index)
    diff = left.loc[common] - right.loc[common]
    out: dict[str, Any] = {"a": a, "b": b, "races": len(common)}
    if len(common) == 0:
        return out
    for metric, lower in LOWER_IS_BETTER.items():
        out[metric] = bootstrap_mean(diff[metric].to_numpy(dtype=float), lower, draws, seed)
    return out


def bootstrap_mean(
    values: np.ndarray, lower: bool = True, draws: int = DRAWS, seed: int = 7
) -> dict[str, float]:
    """Per-race differences a − b: their mean, its 95% interval over `draws` resamplings of
    the races (with replacement), and P(a better) (`lower`: a negative difference is)."""
    picks = np.random.default_rng(seed).integers(0, len(values), size=(draws, len(values)))
    means = values[picks].mean(axis=1)
    better = means < 0 if lower else means > 0
    return {
        "diff": float(values.mean()),
        "low": float(np.quantile(means, 0.025)),
        "high": float(np.quantile(means, 0.975)),
        "p_better": float(better.mean()),
    }
