"""Turning per-entry scores into one win-probability distribution per race."""

from __future__ import annotations

import numpy as np
import pandas as pd

FLOOR = 1e-6  # no entrant is ever certain to lose: keeps log loss finite


def per_race(race_ids: pd.Series | np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Normalise non-negative weights so each race's entries sum to 1 (uniform if all 0)."""
    weights = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    frame = pd.DataFrame({"race": np.asarray(race_ids), "w": weights})
    totals = frame.groupby("race")["w"].transform("sum").to_numpy()
    counts = frame.groupby("race")["w"].transform("size").to_numpy()
    probs = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), 1.0 / counts)
    probs = np.clip(probs, FLOOR, None)
    return probs / pd.Series(probs).groupby(frame["race"].to_numpy()).transform("sum").to_numpy()


def softmax(race_ids: pd.Series | np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Softmax of `logits` within each race."""
    logits = np.asarray(logits, dtype=float)
    peak = pd.Series(logits).groupby(np.asarray(race_ids)).transform("max").to_numpy()
    return per_race(race_ids, np.exp(logits - peak))


def sharpen(race_ids: pd.Series | np.ndarray, probs: np.ndarray, power: float) -> np.ndarray:
    """Calibrate by a power: p^a renormalised per race (a > 1 sharpens, a < 1 flattens)."""
    return softmax(race_ids, power * np.log(np.clip(probs, FLOOR, None)))


def race_softmax(codes: np.ndarray, races: int, logits: np.ndarray) -> np.ndarray:
    """Softmax of `logits` within groups `codes` (0…races-1), in numpy (fitting loops)."""
    peak = np.full(races, -np.inf)
    np.maximum.at(peak, codes, logits)
    weights = np.exp(logits - peak[codes])
    return weights / np.bincount(codes, weights, minlength=races)[codes]
