"""Training the finishing-order model of a stage (`f1_order_{stage}`): the DNF model fitted on
every season from `start`, α as chosen on the development window, evaluated walk-forward on the
last two complete seasons against the baselines, logged and registered in MLflow with the
same champion/challenger lifecycle as the winner models."""

from __future__ import annotations

import logging
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.store import pull
from feature_store.view import NAME, VERSION
from models.dnf import HISTORY as DNF_HISTORY
from models.dnf import DnfModel
from models.order import OrderModel
from pipelines.order_backtest import report, walk_forward, write_report
from pipelines.train import REQUIREMENTS, VALIDATION_SEASONS, TrainResult, last_race, registered
from pipelines.training_data import labelled
from spec import stage as spec_stage

log = logging.getLogger(__name__)
START = 1981


def train_order(
    engine: Engine | Connection, stage: str, start: int = START, last: int | None = None
) -> TrainResult:
    """Evaluate, fit, log and register the stage's finishing-order model; the new version is
    the challenger (and the champion when it is the first)."""
    import mlflow

    from models.pyfunc import FinishingOrderModel, save_order
    from models.registry import model_name, tracking_uri, training_run

    started, began = time.perf_counter(), time.time()
    rows = labelled(engine, stage)
    last = last or int(rows["season"].max())
    rows = rows[rows["season"] <= last]
    alpha = spec_stage(stage).model.alpha
    first = last - VALIDATION_SEASONS + 1
    scored = walk_forward(rows, stage, first, last, (alpha,))[alpha]
    evaluation = report(scored, stage, alpha)
    fitted = rows[rows["season"] >= max(start, last - DNF_HISTORY + 1)]  # the last 10 seasons
    order = OrderModel(stage, DnfModel(stage).fit(fitted), alpha)
    name = model_name(stage, "order")
    ours, baseline = evaluation["overall"]["model"], evaluation["overall"][evaluation["baseline"]]
    metrics = {f"validation_{k}": float(v) for k, v in ours.items()}
    metrics |= {f"validation_baseline_{k}": float(v) for k, v in baseline.items()}
    mlflow.set_tracking_uri(tracking_uri())
    manifest = pull()  # the shared build first (F1_ARTIFACTS_URL on S3)
    title = f"train {name.removeprefix('f1_')} {start}–{last}"
    with (
        training_run(name, title, began) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.log_params(
            {
                "stage": stage,
                "target": "order",
                "train_from": start,
                "train_to": last,
                "validation_seasons": f"{first}-{last}",
                "alpha": alpha,
                "dnf_coefficients": ", ".join(
                    f"{n} {c:+.3f}" for n, c in zip(order.dnf.names, order.dnf.coef, strict=True)
                ),
                "feature_view": NAME,
                "feature_view_version": VERSION,
                "feature_build_id": manifest.build_id if manifest else "unknown",
                "rows": len(rows),
                "last_race": last_race(rows),
            }
        )
        mlflow.log_metrics(metrics)
        for path in write_report([evaluation], Path(tmp) / "validation.json"):
            mlflow.log_artifact(str(path), artifact_path="validation")
        per_race_rps(scored, rows).to_csv(Path(tmp) / "per_race.csv", index=False)
        mlflow.log_artifact(str(Path(tmp) / "per_race.csv"), artifact_path="validation")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=FinishingOrderModel(),
            artifacts={"order": str(save_order(order, Path(tmp) / "order.pkl"))},
            pip_requirements=[f"{p}=={version(p)}" for p in REQUIREMENTS],
            metadata={"feature_view": NAME, "stage": stage, "target": "order"},
            registered_model_name=name,
        )
    return registered(engine, name, str(info.registered_model_version), run.info.run_id,
                      time.perf_counter() - started, metrics)  # fmt: skip


def per_race_rps(scored: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """season, round, race_id and the model's mean RPS of each validation race (what the
    promotion gate compares champion and challenger on, race by race)."""
    ours = scored[(scored["forecaster"] == "model") & scored["rps"].notna()]
    per_race = ours.groupby("race_id", as_index=False)["rps"].mean()
    keys = rows[["race_id", "season", "round"]].drop_duplicates("race_id")
    return keys.merge(per_race, on="race_id")[["season", "round", "race_id", "rps"]]
