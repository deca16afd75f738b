"""Metrics and per-race probabilities on small races worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.baselines import baselines, previous_winner
from models.metrics import paired_bootstrap, race_scores, reliability, score
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


def _races(n: int, seed: int = 3) -> pd.DataFrame:
    """`n` four-car races; driver 1 wins 3 in 4; `sharp` knows it, `flat` does not."""
    rng = np.random.default_rng(seed)
    rows = []
    for race in range(n):
        winner = 1 if rng.random() < 0.75 else int(rng.integers(2, 5))
        for driver in range(1, 5):
            rows.append(
                {
                    "race_id": race,
                    "season": 2000 + race // 20,
                    "round": race % 20 + 1,
                    "driver_id": driver,
                    "won": int(driver == winner),
                    "sharp": 0.75 if driver == 1 else 0.25 / 3,
                    "flat": 0.25,
                }
            )
    return pd.DataFrame(rows)


def test_race_scores_by_hand() -> None:
    frame = _races(2)
    scores = race_scores(frame, "flat")
    assert scores["log_loss"].to_numpy() == pytest.approx([math.log(4)] * 2)
    # one entry at (1 − 0.25)², three at 0.25²
    assert scores["brier"].to_numpy() == pytest.approx([(0.5625 + 3 * 0.0625) / 4] * 2)


def test_paired_bootstrap_tells_a_better_forecast_from_noise() -> None:
    frame = _races(200)
    better = paired_bootstrap(frame, "sharp", "flat")
    assert better["races"] == 200
    cell = better["log_loss"]
    assert cell["high"] < 0 and cell["p_better"] == 1.0  # the interval excludes 0
    assert cell["diff"] == pytest.approx(
        race_scores(frame, "sharp")["log_loss"].mean() - math.log(4)
    )
    same = paired_bootstrap(frame.assign(copy=frame["flat"]), "copy", "flat")
    assert same["log_loss"]["diff"] == 0 and same["log_loss"]["p_better"] == 0.0
    worse = paired_bootstrap(frame, "flat", "sharp")
    assert worse["log_loss"]["low"] > 0 and worse["top1"]["p_better"] < 0.5


def test_pre_quali_baselines_know_only_what_was_known_before_the_weekend() -> None:
    history = _races(60)
    history["driver_elo"] = 1500.0 + 10 * (history["driver_id"] == 2)
    history["championship_position"] = history["driver_id"].astype(float)
    winners = previous_winner(history)
    assert pd.isna(winners.iloc[0])
    first_winner = history.loc[(history["race_id"] == 0) & (history["won"] == 1), "driver_id"]
    assert winners.loc[1] == first_winner.iloc[0]
    test = history[history["season"] == 2002]
    out = baselines(history, test, "pre_quali")
    assert set(out) == {"uniform", "leader", "last_winner", "elo_favourite"}
    for probs in out.values():
        assert pd.Series(probs).groupby(test["race_id"].to_numpy()).sum().to_numpy() == (
            pytest.approx([1.0] * 20)
        )
    # the last winner is favoured; hiding the race's own result changes nothing
    race = test[test["race_id"] == 45]
    favourite = race["driver_id"].to_numpy()[np.argmax(out["last_winner"][test["race_id"] == 45])]
    assert favourite == winners.loc[45]
    blind = baselines(
        history.assign(won=history["won"].where(history["race_id"] != 45, 0)),
        test,
        "pre_quali",
        only=("last_winner",),
    )["last_winner"]
    assert blind[test["race_id"].to_numpy() == 45] == pytest.approx(
        out["last_winner"][test["race_id"].to_numpy() == 45]
    )
    with pytest.raises(ValueError, match="unknown stage"):
        baselines(history, test, "race")


def test_the_development_rule_serves_the_simplest_model_the_best_does_not_clearly_beat() -> None:
    from pipelines.develop import choose

    frame = _races(200)
    tiny = np.where(frame["driver_id"] == 1, 0.752, (1 - 0.752) / 3)
    # the pool a hair better than the logit, XGBoost clearly worse: serve the logit
    close = frame.assign(clogit=frame["sharp"], pool=tiny, xgb=frame["flat"])
    chosen = choose(close, "post_quali", (2006, 2013))
    assert chosen["best"] == "pool" and chosen["chosen"] == "clogit"
    assert chosen["table"]["xgb"]["log_loss"] == pytest.approx(math.log(4))
    # the pool clearly better than both: serve the pool
    clear = frame.assign(clogit=frame["flat"], xgb=frame["flat"], pool=frame["sharp"])
    assert choose(clear, "post_quali", (2006, 2013))["chosen"] == "pool"
