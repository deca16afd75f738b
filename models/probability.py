"""Turning per-entry scores into one win-probability distribution per race."""

from __future__ import annotations

import numpy as np
import pandas as pd

FLOOR = 1e-6  # no entrant is ever certain to lose: keeps log loss finite


def per_race(race_ids: pd.Series | np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Normalise non-negative weights so each race's entries sum to 1 (uniform if all 0)."""
    weights = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    codes, races = _codes(race_ids)
    totals = np.bincount(codes, weights, minlength=races)[codes]
    counts = np.bincount(codes, minlength=races)[codes]
    probs = np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), 1.0 / counts)
    probs = np.clip(probs, FLOOR, None)
    return probs / np.bincount(codes, probs, minlength=races)[codes]


def softmax(race_ids: pd.Series | np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Softmax of `logits` within each race."""
    logits = np.asarray(logits, dtype=float)
    codes, races = _codes(race_ids)
    peak = np.full(races, -np.inf)
    np.fmax.at(peak, codes, logits)
    return per_race(race_ids, np.exp(logits - peak[codes]))


def _codes(race_ids: pd.Series | np.ndarray) -> tuple[np.ndarray, int]:
    """Each entry's race as 0…races-1 (numpy sums by code: a race is a few rows when the
    service predicts, where pandas' groupby costs a millisecond a call)."""
    codes, uniques = pd.factorize(np.asarray(race_ids))
    return codes, len(uniques)


def sharpen(race_ids: pd.Series | np.ndarray, probs: np.ndarray, power: float) -> np.ndarray:
    """Calibrate by a power: p^a renormalised per race (a > 1 sharpens, a < 1 flattens)."""
    return softmax(race_ids, power * np.log(np.clip(probs, FLOOR, None)))


def race_softmax(codes: np.ndarray, races: int, logits: np.ndarray) -> np.ndarray:
    """Softmax of `logits` within groups `codes` (0…races-1), in numpy (fitting loops)."""
    peak = np.full(races, -np.inf)
    np.maximum.at(peak, codes, logits)
    weights = np.exp(logits - peak[codes])
    return weights / np.bincount(codes, weights, minlength=races)[codes]
