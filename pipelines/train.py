"""One training run per stage, tracked in MLflow and registered with aliases."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.store import pull
from feature_store.view import NAME, VERSION
from models.ensemble import Ensemble, Recipe
from pipelines.backtest import START, explanation_plots, report, walk_forward, write_report
from pipelines.promote import record_initial
from pipelines.training_data import labelled

log = logging.getLogger(__name__)
VALIDATION_SEASONS = 2
REQUIREMENTS = ("scikit-learn", "xgboost-cpu", "pandas", "numpy", "scipy", "mlflow")


@dataclass(frozen=True)
class TrainResult:
    """The registered version and how the run went."""

    name: str
    version: str
    run_id: str
    aliases: list[str]
    seconds: float
    metrics: dict[str, float]


def train(
    engine: Engine | Connection,
    stage: str,
    start: int = START,
    last: int | None = None,
    recipe: Recipe | None = None,
) -> TrainResult:
    """Evaluate the recipe walk-forward on the last two complete seasons, fit it on every
    season from `start`, log and register the model; the new version becomes the challenger
    (and the champion when it is the first)."""
    import mlflow
    from mlflow.models import infer_signature

    from models.pyfunc import WinnerModel, save_ensemble, win_probabilities
    from models.registry import model_name, tracking_uri, training_run

    started, began = time.perf_counter(), time.time()
    rows = labelled(engine, stage)
    last = last or int(rows["season"].max())
    rows = rows[rows["season"] <= last]
    manifest = pull()  # the shared build first (F1_ARTIFACTS_URL on S3)
    recipe = recipe or Recipe(stage)
    validation_models: dict[int, Ensemble] = {}
    forecasts, _ = walk_forward(
        rows,
        stage,
        last - VALIDATION_SEASONS + 1,
        last,
        start,
        recipe=recipe,
        models=validation_models,
    )
    evaluation = report(forecasts, stage)
    ensemble = Ensemble(recipe).fit(rows[rows["season"] >= start])
    mlflow.set_tracking_uri(tracking_uri())
    name = model_name(stage)
    metrics = {
        f"validation_{k}": float(v)
        for k, v in evaluation["overall"]["ensemble"].items()
        if isinstance(v, int | float)
    }
    metrics["validation_baseline_log_loss"] = evaluation["overall"][evaluation["baseline"]][
        "log_loss"
    ]
    with (
        training_run(name, f"train {stage} {start}–{last}", began) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.log_params(
            {
                "stage": stage,
                "train_from": start,
                "train_to": last,
                "validation_seasons": f"{last - 1}-{last}",
                "pool_fit_seasons": ",".join(str(y) for y in ensemble.validation),
                "feature_view": NAME,
                "feature_view_version": VERSION,
                "rows": len(rows),
                "feature_build_id": manifest.build_id if manifest else "unknown",
                "last_race": last_race(rows),
                "serves": ensemble.serve,
                **{f"weight_{k}": round(v, 3) for k, v in ensemble.weights.items()},
                "calibration_power": round(ensemble.power, 3),
                "elo_scale": round(ensemble.elo_scale, 1),
                **{f"rf_{k}": v for k, v in ensemble.recipe.rf.items()},
                **{f"xgb_{k}": v for k, v in ensemble.recipe.xgb.items()},
            }
        )
        mlflow.log_metrics(metrics)
        for path in write_report(evaluation, ensemble, Path(tmp) / "validation.json"):
            mlflow.log_artifact(str(path), artifact_path="validation")
        per_race = per_race_log_loss(forecasts, evaluation["baseline"])
        per_race.to_csv(Path(tmp) / "per_race.csv", index=False)
        mlflow.log_artifact(str(Path(tmp) / "per_race.csv"), artifact_path="validation")
        for path in explanation_plots(rows, forecasts, validation_models, Path(tmp) / "explain"):
            mlflow.log_artifact(str(path), artifact_path="validation/explain")
        example = rows[rows["season"] == last].head(20)[
            ["race_id", "driver_id", *ensemble.features]
        ]
        signature = infer_signature(example, win_probabilities(ensemble, example))
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=WinnerModel(),
            artifacts={"ensemble": str(save_ensemble(ensemble, Path(tmp) / "ensemble.pkl"))},
            signature=signature,
            input_example=example,
            pip_requirements=[f"{p}=={version(p)}" for p in REQUIREMENTS],
            metadata={"feature_view": NAME, "feature_view_version": VERSION, "stage": stage},
            registered_model_name=name,
        )
    return registered(engine, name, str(info.registered_model_version), run.info.run_id,
                      time.perf_counter() - started, metrics)  # fmt: skip


def registered(
    engine: Engine | Connection,
    name: str,
    version: str,
    run_id: str,
    seconds: float,
    metrics: dict[str, float],
) -> TrainResult:
    """A version just registered becomes the challenger, and the champion when it is the
    first (recorded as the initial champion)."""
    from mlflow.tracking import MlflowClient

    from models.registry import CHALLENGER, CHAMPION

    client = MlflowClient()
    versions = client.search_model_versions(f"name = '{name}'")
    aliases = [CHALLENGER] + ([CHAMPION] if len(versions) == 1 else [])
    for alias in aliases:
        client.set_registered_model_alias(name, alias, version)
    if CHAMPION in aliases:
        record_initial(engine, name, version)
    log.info("%s version %s (%s) trained in %.1fs", name, version, ", ".join(aliases), seconds)
    return TrainResult(name, version, run_id, aliases, seconds, metrics)


def last_race(rows: pd.DataFrame) -> str:
    """`season-round` of the latest race in training rows, e.g. `2024-17`."""
    latest = rows.sort_values(["season", "round"]).iloc[-1]
    return f"{int(latest['season'])}-{int(latest['round'])}"


def training_due(
    engine: Engine | Connection, stages: tuple[str, ...], targets: tuple[str, ...] = ("winner",)
) -> str | None:
    """Why a scheduled training should run (a stage's model of a target has no version, or
    races were run since its newest version was trained), or None when nothing new could be
    learnt."""
    from models.registry import client, model_name

    latest = last_race(labelled(engine, stages[0]))
    registry = client()
    for name in (model_name(stage, target) for target in targets for stage in stages):
        found = registry.search_model_versions(f"name = '{name}'")
        if not found:
            return f"{name} has no version yet"
        newest = max(found, key=lambda v: int(v.version))
        trained = registry.get_run(newest.run_id).data.params.get("last_race")
        if trained != latest:
            return f"{name} v{newest.version} was trained up to {trained}; results reach {latest}"
    return None


def per_race_log_loss(forecasts: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """season, round, race_id and the ensemble's log loss of each forecast race (the offline
    gate compares champion and challenger on these, race by race); with `baseline`, the
    stage's baseline's beside it (the model page's backtest track record)."""
    won = forecasts[forecasts["won"] == 1]

    def loss(column: str) -> np.ndarray:
        return -np.log(np.clip(won[column].to_numpy(dtype=float), 1e-12, None))

    table = {
        "season": won["season"].astype(int).to_numpy(),
        "round": won["round"].astype(int).to_numpy(),
        "race_id": won["race_id"].astype(int).to_numpy(),
        "log_loss": loss("ensemble"),
    }
    if baseline is not None and baseline in won:
        table["baseline_log_loss"] = loss(baseline)
    return pd.DataFrame(table).sort_values(["season", "round"], ignore_index=True)


def result_dict(result: TrainResult) -> dict[str, Any]:
    """JSON-able summary (the `f1/models` asset's extra)."""
    return asdict(result)
