"""Metrics and per-race probabilities on small races worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.metrics import reliability, score
from models.probability import per_race, sharpen, softmax


def test_per_race_normalisation_and_softmax() -> None:
    races = np.array([1, 1, 2, 2, 2])
    probs = per_race(races, np.array([3.0, 1.0, 0.0, 0.0, 0.0]))
    assert probs[:2] == pytest.approx([0.75, 0.25], abs=1e-5)
    assert probs[2:] == pytest.approx([1 / 3] * 3)  # all zero: uniform
    soft = softmax(races, np.array([0.0, math.log(3), 1.0, 1.0, 1.0]))
    assert soft[:2] == pytest.approx([0.25, 0.75], abs=1e-6)
    sharp = sharpen(races, np.array([0.6, 0.4, 0.5, 0.25, 0.25]), 2.0)
    assert sharp[:2] == pytest.approx([0.36 / 0.52, 0.16 / 0.52], abs=1e-6)
    assert pd.Series(sharp).groupby(races).sum().to_numpy() == pytest.approx([1, 1])


def test_score_of_two_races() -> None:
    frame = pd.DataFrame(
        {
            "race_id": [1, 1, 1, 2, 2, 2],
            "won": [1, 0, 0, 0, 0, 1],
            "prob": [0.5, 0.3, 0.2, 0.6, 0.3, 0.1],
        }
    )
    metrics = score(frame)
    assert metrics["top1"] == 0.5 and metrics["top3"] == 1.0 and metrics["races"] == 2
    assert metrics["log_loss"] == pytest.approx(-(math.log(0.5) + math.log(0.1)) / 2)
    brier = (0.25 + 0.09 + 0.04 + 0.36 + 0.09 + 0.81) / 6
    assert metrics["brier"] == pytest.approx(brier)
    assert metrics["ece"] == pytest.approx(
        sum(r["n"] * abs(r["mean_p"] - r["rate"]) for r in metrics["reliability"]) / 6
    )


def test_reliability_bins() -> None:
    table = reliability(np.array([0.05, 0.07, 0.95]), np.array([0, 1, 1]))
    assert [(r["low"], r["n"], r["rate"]) for r in table] == [(0.0, 2, 0.5), (0.9, 1, 1.0)]
