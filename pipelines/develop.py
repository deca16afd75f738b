"""How the served model is chosen: on the development window only, never on the test window.

Every candidate (models/ensemble.py's CANDIDATES, simplest first: the conditional logit, the
race-softmax XGBoost alone, the pool with calibration power ≤ 1) forecasts 2006–2013 walk
forward (trained on the seasons before each). The rule: take the lowest log loss; serve the
simplest candidate that it does not beat with P ≥ 0.9 in the paired race bootstrap (a smaller
edge cannot be told from noise on ~150 races). `f1 backtest --develop` runs it and prints the
table; the stage's `model.served` in the spec holds its outcome.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from models.ensemble import CANDIDATES, Recipe
from models.metrics import paired_bootstrap, score
from pipelines.backtest import START, Progress, walk_forward
from spec import stage as spec_stage

DEVELOPMENT = (2006, 2013)
CONFIDENT = 0.9


def develop(
    rows: pd.DataFrame,
    stage: str,
    window: tuple[int, int] = DEVELOPMENT,
    start: int = START,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """`{"stage", "window", "table": {CANDIDATE: metrics}, "against_best": [...], "chosen",
    "rule"}`."""
    forecasts, _ = walk_forward(
        rows, stage, window[0], window[1], start, progress, Recipe(stage, serve="pool")
    )
    return choose(forecasts, stage, window)


def choose(forecasts: pd.DataFrame, stage: str, window: tuple[int, int]) -> dict[str, Any]:
    """Apply the rule to walk-forward forecasts holding every candidate's column."""
    shown = [
        *CANDIDATES,
        *(b for b in spec_stage(stage).model.baselines if b in forecasts and b != "uniform"),
    ]
    table = {c: _short(score(forecasts, c)) for c in shown}
    best = min(CANDIDATES, key=lambda c: table[c]["log_loss"])
    against = [paired_bootstrap(forecasts, best, c) for c in CANDIDATES if c != best]
    beaten = {pair["b"] for pair in against if pair["log_loss"]["p_better"] >= CONFIDENT}
    chosen = next(c for c in CANDIDATES if c not in beaten)
    return {
        "stage": stage,
        "window": list(window),
        "table": table,
        "best": best,
        "against_best": against,
        "chosen": chosen,
        "rule": (
            f"lowest log loss: {best}; serve the simplest of {', '.join(CANDIDATES)} that it "
            f"does not beat with P >= {CONFIDENT} (paired race bootstrap)"
        ),
    }


def _short(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "reliability"}
