"""The era openers: the first season of each technical era, where carried-over ratings mislead.

Each opener (2009, 2014, 2017, 2022 in the bundled history) is forecast by models trained only
on the seasons before it, two ways:
- `frozen`: one model fitted before the season, used all season (the features still move
  race by race: this season's pace, the era's team ratings, the grid's agreement with them);
- `online`: refitted after every race on everything before the next one, the season's races
  included (what retraining after each race weekend would give).
Both are scored over the first FIRST_RACES races and the whole season beside the stage's
baselines, each pair with a paired race-bootstrap interval (models/metrics.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from feature_store.eras import ERA_STARTS
from models.baselines import baselines
from models.ensemble import Ensemble, Recipe
from models.metrics import paired_bootstrap, score
from pipelines.backtest import START, Progress, earlier_models
from spec import stage as spec_stage

FIRST_RACES = 11
VARIANTS = ("frozen", "online")
WINDOWS = {"first_11": FIRST_RACES, "season": None}


def openers(rows: pd.DataFrame, start: int = START) -> list[int]:
    """The era openers `rows` can test: an era's first season with labelled races and at
    least ten training seasons before it."""
    seasons = {int(s) for s in rows["season"].unique()}
    return sorted(s for s in ERA_STARTS if s in seasons and s - start >= 10)


def forecast_opener(
    rows: pd.DataFrame, stage: str, season: int, start: int = START, recipe: Recipe | None = None
) -> pd.DataFrame:
    """The season's rows with `frozen` and `online` forecasts and the stage's baselines."""
    recipe = recipe or Recipe(stage)
    past = rows[(rows["season"] >= start) & (rows["season"] < season)]
    test = rows[rows["season"] == season].copy()
    test["frozen"] = Ensemble(recipe).fit(past).forecast(test)
    online = test["frozen"].to_numpy().copy()
    rounds = sorted(int(r) for r in test["round"].unique())
    for round_ in rounds[1:]:
        done = test[test["round"] < round_]
        model = Ensemble(recipe).fit(pd.concat([past, done], ignore_index=True))
        now = (test["round"] == round_).to_numpy()
        online[now] = model.forecast(test[now])
    test["online"] = online
    for name, values in baselines(rows, test, stage).items():
        test[name] = values
    for other, values in earlier_models(past, test, stage).items():
        test[other] = values  # frozen for the season, as the stage's own
    return test


def compared(stage: str) -> list[str]:
    """What an opener is scored beside: the earlier stages' served models the stage is
    compared with, and every one of the stage's baselines but uniform."""
    known = spec_stage(stage).model
    return [*known.compared_with, *(name for name in known.baselines if name != "uniform")]


def score_opener(forecasts: pd.DataFrame, stage: str) -> dict[str, Any]:
    """Per window: races, each variant's and baseline's metrics, and every variant paired with
    every baseline (and online with frozen)."""
    out: dict[str, Any] = {}
    for window, first in WINDOWS.items():
        part = forecasts if first is None else forecasts[forecasts["round"] <= first]
        names = [*VARIANTS, *compared(stage)]
        metrics = {n: _short(score(part, n)) for n in names}
        pairs = [(v, b) for v in VARIANTS for b in compared(stage)] + [("online", "frozen")]
        out[window] = {
            "races": metrics["frozen"]["races"],
            "metrics": metrics,
            "comparisons": [paired_bootstrap(part, a, b) for a, b in pairs],
        }
    return out


def era_openers(
    rows: pd.DataFrame, stage: str, start: int = START, progress: Progress | None = None
) -> dict[str, Any]:
    """`{"stage", "first_races", "baselines", "seasons": {YEAR: {WINDOW: {"races", "metrics",
    "comparisons"}}}}` for every era opener in `rows`."""
    seasons = openers(rows, start)
    out: dict[str, Any] = {
        "stage": stage,
        "first_races": FIRST_RACES,
        "baselines": compared(stage),
        "seasons": {},
    }
    for done, season in enumerate(seasons, start=1):
        forecasts = forecast_opener(rows, stage, season, start)
        out["seasons"][str(season)] = score_opener(forecasts, stage)
        if progress:
            progress("era opener", done, len(seasons))
    return out


def beats(section: dict[str, Any], variant: str, baseline: str) -> bool:
    """Whether `variant` has a lower log loss and Brier than `baseline` in every opener and
    window of an `era_openers` section."""
    return all(
        window["metrics"][variant][m] < window["metrics"][baseline][m]
        for season in section["seasons"].values()
        for window in season.values()
        for m in ("log_loss", "brier")
    )


def plot(section: dict[str, Any], path: Path) -> Path:
    """Log loss and Brier of each variant minus each baseline, per opener and window, with
    95% intervals (left of 0: the model is better)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [
        (f"{season} {window.replace('_', ' ')}: {pair['a']} − {pair['b']}", pair)
        for season, windows in section["seasons"].items()
        for window, cell in windows.items()
        for pair in cell["comparisons"]
        if pair.get("races") and pair["b"] != "frozen"
    ]
    figure, axes = plt.subplots(1, 2, figsize=(13, 0.32 * len(lines) + 1.8))
    for axis, metric in zip(axes, ("log_loss", "brier"), strict=True):
        for row, (_, pair) in enumerate(lines):
            cell = pair[metric]
            colour = "tab:green" if cell["high"] < 0 else "tab:red" if cell["low"] > 0 else "grey"
            axis.plot([cell["low"], cell["high"]], [row, row], color=colour, linewidth=2)
            axis.plot(cell["diff"], row, "o", color=colour)
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_yticks(range(len(lines)), [label for label, _ in lines] if metric == "log_loss"
                        else [])  # fmt: skip
        axis.tick_params(axis="y", labelsize=7)
        axis.invert_yaxis()
        axis.set(xlabel=f"{metric} difference (left of 0: the model is better)")
    figure.suptitle(f"Era openers, {section['stage']}: frozen and online against the baselines")
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _short(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "reliability"}


def write_plot(result: dict[str, Any], out: Path) -> list[Path]:
    """The era openers' plot beside the backtest report `out`, when `result` has a section."""
    if not result.get("era_openers", {}).get("seasons"):
        return []
    prefix = out.with_suffix("")
    return [plot(result["era_openers"], prefix.with_name(prefix.name + "-era-openers.png"))]
