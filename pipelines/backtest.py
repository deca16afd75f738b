"""Walk-forward backtest: for each season Y, train on the seasons before Y (from `start`) and
forecast every race of Y with the features as of that race; score models and baselines."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from models.baselines import baselines
from models.ensemble import BASES, Ensemble, Recipe
from models.metrics import score

log = logging.getLogger(__name__)

# Training starts in 1981: from then on every season has 14+ races and ~26-car grids under
# one governing body and one sporting code (the Concorde Agreement), so the form, grid and
# ELO signals mean the same thing; the 1950s–70s add one-off entries and the Indy 500.
START = 1981
MODELS = (*BASES, "ensemble")
Progress = Callable[[str, int, int], None]


def walk_forward(
    rows: pd.DataFrame,
    stage: str,
    first: int,
    last: int,
    start: int = START,
    progress: Progress | None = None,
    recipe: Recipe | None = None,
) -> tuple[pd.DataFrame, Ensemble]:
    """Every race of `first`…`last` forecast by models trained only on earlier seasons."""
    parts, model = [], None
    seasons = list(range(first, last + 1))
    for done, season in enumerate(seasons, start=1):
        train = rows[(rows["season"] >= start) & (rows["season"] < season)]
        test = rows[rows["season"] == season].copy()
        if test.empty:
            continue
        model = Ensemble(recipe or Recipe(stage)).fit(train)
        for name, column in model.predict(test).items():
            test[name] = column.to_numpy()
        for name, values in baselines(rows, test, stage).items():
            test[name] = values
        parts.append(test)
        if progress:
            progress("season", done, len(seasons))
    if model is None:
        raise ValueError(f"no labelled races in {first}–{last} for {stage}")
    return pd.concat(parts, ignore_index=True), model


def report(forecasts: pd.DataFrame, stage: str) -> dict[str, Any]:
    """`{"stage", "seasons", "overall": {NAME: metrics}, "by_season": {YEAR: {NAME: metrics}}}`."""
    names = [n for n in (*MODELS, "uniform", "pole", "grid", "leader") if n in forecasts]
    seasons = sorted(int(s) for s in forecasts["season"].unique())
    return {
        "stage": stage,
        "seasons": seasons,
        "overall": {name: score(forecasts, name) for name in names},
        "by_season": {
            str(year): {
                name: _short(score(forecasts[forecasts["season"] == year], name)) for name in names
            }
            for year in seasons
        },
    }


def _short(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "reliability"}


def write_report(result: dict[str, Any], model: Ensemble, out: Path) -> list[Path]:
    """The JSON report at `out`, and beside it the PNG plots; every path written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return [out, *plots(result, model, out.with_suffix(""))]


def plots(result: dict[str, Any], model: Ensemble, prefix: Path) -> list[Path]:
    """Reliability diagram, models vs baselines per season, feature importance (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    figure, axis = plt.subplots(figsize=(6, 6))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name in ("ensemble", "grid", "elo"):
        table = result["overall"].get(name, {}).get("reliability", [])
        if table:
            axis.plot(
                [r["mean_p"] for r in table],
                [r["rate"] for r in table],
                marker="o",
                label=f"{name} (ECE {result['overall'][name]['ece']:.4f})",
            )
    axis.set(
        xlabel="forecast win probability",
        ylabel="observed win rate",
        title=f"Reliability, {result['stage']} {result['seasons'][0]}–{result['seasons'][-1]}",
    )
    axis.legend()
    paths.append(_save(figure, prefix.with_name(prefix.name + "-reliability.png")))

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    years = [str(y) for y in result["seasons"]]
    for name in result["overall"]:
        if name == "uniform":
            continue
        for axis, metric in zip(axes, ("top1", "log_loss"), strict=True):
            values = [result["by_season"][y][name][metric] for y in years]
            axis.plot(
                years, values, marker="o", label=name, linewidth=2.5 if name == "ensemble" else 1.2
            )
    axes[0].set(title="favourite won (top-1)", ylabel="share of races")
    axes[1].set(title="log loss of the winner's probability", ylabel="nats")
    axes[0].legend(fontsize=8)
    for axis in axes:
        axis.tick_params(axis="x", rotation=45)
    paths.append(_save(figure, prefix.with_name(prefix.name + "-by-season.png")))

    importance = model.importances().mean(axis=1).sort_values()
    figure, axis = plt.subplots(figsize=(7, 8))
    axis.barh(importance.index, importance.to_numpy())
    axis.set(title="Feature importance (mean of RF and XGBoost)", xlabel="share")
    paths.append(_save(figure, prefix.with_name(prefix.name + "-importance.png")))
    return paths


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path


def log_to_mlflow(result: dict[str, Any], paths: list[Path], start: int) -> str:
    """Record a backtest as a run of the stage's experiment; its run id."""
    import mlflow

    from models.registry import experiment_id, model_name, tracking_uri

    mlflow.set_tracking_uri(tracking_uri())
    name = model_name(result["stage"])
    seasons = result["seasons"]
    with mlflow.start_run(
        experiment_id=experiment_id(name), run_name=f"backtest {seasons[0]}–{seasons[-1]}"
    ) as run:
        mlflow.set_tag("kind", "backtest")
        mlflow.log_params(
            {"stage": result["stage"], "train_from": start, "tested": f"{seasons[0]}-{seasons[-1]}"}
        )
        mlflow.log_metrics(
            {
                f"{model}_{metric}": float(value)
                for model, metrics in result["overall"].items()
                for metric, value in metrics.items()
                if metric in ("top1", "top3", "log_loss", "brier", "ece")
            }
        )
        for path in paths:
            mlflow.log_artifact(str(path), artifact_path="backtest")
    return str(run.info.run_id)
