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
from models.metrics import paired_bootstrap, score
from pipelines.figures import save as save_figure
from spec import stage as spec_stage

log = logging.getLogger(__name__)

# Training starts in 1981: from then on every season has 14+ races and ~26-car grids under
# one governing body and one sporting code (the Concorde Agreement), so the form, grid and
# ELO signals mean the same thing; the 1950s–70s add one-off entries and the Indy 500.
START = 1981
MODELS = (*BASES, "pool", "ensemble")
Progress = Callable[[str, int, int], None]


def walk_forward(
    rows: pd.DataFrame,
    stage: str,
    first: int,
    last: int,
    start: int = START,
    progress: Progress | None = None,
    recipe: Recipe | None = None,
    models: dict[int, Ensemble] | None = None,
) -> tuple[pd.DataFrame, Ensemble]:
    """Every race of `first`…`last` forecast by models trained only on earlier seasons (each
    season's model kept in `models` when a dict is given)."""
    parts, model = [], None
    seasons = list(range(first, last + 1))
    for done, season in enumerate(seasons, start=1):
        train = rows[(rows["season"] >= start) & (rows["season"] < season)]
        test = rows[rows["season"] == season].copy()
        if test.empty:
            continue
        model = Ensemble(recipe or Recipe(stage)).fit(train)
        if models is not None:
            models[season] = model
        for name, column in model.predict(test).items():
            test[name] = column.to_numpy()
        for name, values in baselines(rows, test, stage).items():
            test[name] = values
        for other, values in earlier_models(train, test, stage).items():
            test[other] = values
        parts.append(test)
        if progress:
            progress("season", done, len(seasons))
    if model is None:
        raise ValueError(f"no labelled races in {first}–{last} for {stage}")
    return pd.concat(parts, ignore_index=True), model


def earlier_models(train: pd.DataFrame, test: pd.DataFrame, stage: str) -> dict[str, Any]:
    """The served forecasts of the earlier stages the stage is compared with
    (`model.compared_with`), each stage's recipe fitted on `train`: its inputs are a subset of
    this stage's rows, so both are scored on the same entrants, race by race."""
    return {
        other: Ensemble(Recipe(other)).fit(train).forecast(test)
        for other in spec_stage(stage).model.compared_with
    }


def report(forecasts: pd.DataFrame, stage: str) -> dict[str, Any]:
    """`{"stage", "seasons", "baseline", "overall": {NAME: metrics}, "by_season": {YEAR: {NAME:
    metrics}}, "comparisons": [paired bootstrap, …]}` (the era openers, which need their own
    models, are pipelines/era_openers.py's section).

    The comparisons pair the served model (`ensemble`) with the earlier stages' served models
    it is compared with, each model with the stage's baseline and every two models with each
    other (`ensemble` is the served one of them, so it is not paired again)."""
    known = spec_stage(stage).model
    names = [n for n in (*MODELS, *known.compared_with, *known.baselines) if n in forecasts]
    seasons = sorted(int(s) for s in forecasts["season"].unique())
    models = [n for n in MODELS if n in forecasts and n != "ensemble"]
    baseline = spec_stage(stage).baseline.rule
    earlier = [("ensemble", other) for other in known.compared_with if other in forecasts]
    pairs = (
        earlier
        + [(m, baseline) for m in models]
        + [(a, b) for i, a in enumerate(models) for b in models[i + 1 :]]
    )
    by_season = {
        str(year): {
            name: _short(score(forecasts[forecasts["season"] == year], name)) for name in names
        }
        for year in seasons
    }
    return {
        "stage": stage,
        "seasons": seasons,
        "baseline": baseline,
        "overall": {name: score(forecasts, name) for name in names},
        "by_season": by_season,
        "comparisons": [paired_bootstrap(forecasts, a, b) for a, b in pairs],
    }


def _short(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "reliability"}


def write_report(result: dict[str, Any], model: Ensemble, out: Path) -> list[Path]:
    """The JSON report at `out`, and beside it the PNG plots; every path written (the era
    openers' section draws its own plot: pipelines/era_openers.py `write_plot`)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return [out, *plots(result, model, out.with_suffix(""))]


def plots(result: dict[str, Any], model: Ensemble, prefix: Path) -> list[Path]:
    """Reliability diagram, models vs baselines per season, feature importance, and the paired
    comparisons with their 95% intervals (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    figure, axis = plt.subplots(figsize=(6, 6))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name in ("ensemble", result.get("baseline", "grid"), "elo"):
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
    paths.append(save_figure(figure, prefix.with_name(prefix.name + "-reliability.png")))

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
    paths.append(save_figure(figure, prefix.with_name(prefix.name + "-by-season.png")))

    paths.append(_comparisons(result, prefix.with_name(prefix.name + "-comparisons.png")))

    importance = model.importances().mean(axis=1).sort_values()
    figure, axis = plt.subplots(figsize=(7, 8))
    axis.barh(importance.index, importance.to_numpy())
    axis.set(title=f"Feature importance (mean of {', '.join(model.bases)})", xlabel="share")
    paths.append(save_figure(figure, prefix.with_name(prefix.name + "-importance.png")))
    return paths


def _comparisons(result: dict[str, Any], path: Path) -> Path:
    """Each paired comparison's log-loss and Brier difference with its 95% interval."""
    import matplotlib.pyplot as plt

    pairs = [c for c in result.get("comparisons", []) if c.get("races")]
    figure, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(pairs) + 1.8))
    labels = [f"{c['a']} − {c['b']}" for c in pairs]
    for axis, metric in zip(axes, ("log_loss", "brier"), strict=True):
        for row, pair in enumerate(pairs):
            cell = pair[metric]
            colour = "tab:green" if cell["high"] < 0 else "tab:red" if cell["low"] > 0 else "grey"
            axis.plot([cell["low"], cell["high"]], [row, row], color=colour, linewidth=2)
            axis.plot(cell["diff"], row, "o", color=colour)
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_yticks(range(len(pairs)), labels if metric == "log_loss" else [])
        axis.invert_yaxis()
        axis.set(xlabel=f"{metric} difference (left of 0: the first is better)")
    seasons = result["seasons"]
    figure.suptitle(
        f"Paired race bootstrap, {result['stage']} {seasons[0]}–{seasons[-1]} (95% intervals)"
    )
    return save_figure(figure, path)


def explanation_plots(
    rows: pd.DataFrame,
    forecasts: pd.DataFrame,
    models: dict[int, Ensemble],
    folder: Path,
    favourites: int = 5,
) -> list[Path]:
    """One PNG per forecast race: the largest contributions to each favourite's probability,
    from the model that forecast the race (none when it has no additive explanation). `rows`
    hold the features (in `forecasts` the baselines' columns replace some of them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    served = forecasts[["race_id", "driver_id", "ensemble"]]
    features = rows[rows["race_id"].isin(served["race_id"])].merge(
        served, on=["race_id", "driver_id"]
    )
    for key, race in features.groupby(["season", "round"], sort=True):
        season, round_ = (int(k) for k in key)  # type: ignore[call-overload]
        model = models.get(season)
        if model is None or model.serve == "pool":
            continue
        race = race.reset_index(drop=True)
        reasons = model.explain(race, top=4)
        top = race["ensemble"].sort_values(ascending=False).index[:favourites]
        figure, axis = plt.subplots(figsize=(8, 0.9 * favourites * 4 * 0.35 + 1.2))
        labels, values, colours = [], [], []
        for row in top:
            driver = str(race["driver_ref"].iat[row])
            chance = race["ensemble"].to_numpy(dtype=float)[row]
            for reason in reasons[row]:
                labels.append(f"{driver} · {reason['feature']}")
                values.append(reason["contribution"])
                colours.append("tab:green" if reason["contribution"] > 0 else "tab:red")
            labels.append(f"{driver}: P(win) {chance:.0%}")
            values.append(0.0)
            colours.append("white")
        axis.barh(range(len(values)), values, color=colours)
        axis.set_yticks(range(len(values)), labels, fontsize=7)
        axis.invert_yaxis()
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set(
            xlabel="contribution to the logit against the race's average entrant",
            title=f"{season} round {round_}: why the favourites",
        )
        paths.append(save_figure(figure, folder / f"explain-{season}-{round_:02d}.png"))
    return paths


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
