"""
### f1_train

Trains the models of every target and stage (the race-winner ensemble and the finishing-order
model, `spec.TARGETS`) once a quarter: the first Monday of January,
April, July and October, 07:00 UTC (after the Monday backstop ingest), when races were run
since the newest version was trained (otherwise the run is skipped: nothing new to learn; the
param `force` trains anyway). Every race reaches the features, and so the predictions, within
hours without retraining (ELO, form, standings, the grid); what a retraining changes is how
much each feature weighs, which a quarter's races move little. What the winner model learns
within a season (this season's pace of each car, the team ratings within the technical era,
how well the carried ratings agree with today's grid) is in those features too, so a new era
is followed race by race without a training: refitting after every race was no better than
the model frozen for the season on the era openers 2014, 2017 and 2022 (docs/MODELS.md),
so the cadence stays quarterly. A training run costs two CPU
minutes, and the quarterly cadence keeps a whole season's replay within its time. The
timetable never starts a catch-up run when unpaused.

Each run evaluates the recipe walk-forward on the two most recent seasons, fits it on every
season from 1981, logs parameters, metrics, plots and the model to MLflow, registers a
new version of `f1_{target}_{stage}` (`f1_winner_post_quali`, `f1_order_pre_quali`, …) and
gives it the alias `challenger` (the very first version also becomes `champion`). Emits
`f1/models` with `extra` `{"name", "version", "run_id"}` per model.

Params `start` and `last` narrow the seasons (tests train on a short range).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow.sdk import Param, dag, task

from dags.assets import MODELS
from dags.callbacks import CALLBACKS
from plugins.timetables import FutureCronTimetable
from spec import STAGES, TARGETS

log = logging.getLogger(__name__)


@dag(
    schedule=FutureCronTimetable("0 7 * 1,4,7,10 1#1"),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["f1", "models"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5), **CALLBACKS},
    params={
        "start": Param(1981, type="integer", description="first training season"),
        "last": Param(None, type=["null", "integer"], description="last season (default: all)"),
        "force": Param(False, type="boolean", description="train even when nothing is new"),
    },
)
def f1_train() -> None:
    @task.short_circuit
    def due(params: dict[str, Any] | None = None) -> bool:
        """Train only when races were run since the last training (or when forced)."""
        from pipelines.train import training_due
        from warehouse.db import make_engine

        if (params or {}).get("force"):
            return True
        engine = make_engine()
        try:
            reason = training_due(engine, STAGES.names, TARGETS.names)
        finally:
            engine.dispose()
        log.info("training %s", f"is due: {reason}" if reason else "is not due: nothing new")
        return reason is not None

    @task(outlets=[MODELS])
    def train(
        stage: str,
        target: str,
        params: dict[str, Any] | None = None,
        outlet_events: Any = None,
    ) -> dict[str, Any]:
        """One MLflow training run of `target` at `stage`; the registered version becomes the
        challenger."""
        from pipelines.targets import trainer
        from pipelines.train import result_dict
        from warehouse.db import make_engine

        p = params or {}
        run = trainer(target)
        engine = make_engine()
        try:
            result = result_dict(run(engine, stage, int(p.get("start") or 1981), p.get("last")))
        finally:
            engine.dispose()
        extra = {k: result[k] for k in ("name", "version", "run_id")}
        outlet_events[MODELS].extra = extra
        return extra

    gate = due()
    for target in TARGETS.names:
        for stage in STAGES.names:
            # task ids of the winner models kept as they were (`train_post_quali`)
            task_id = f"train_{stage}" if target == "winner" else f"train_{target}_{stage}"
            gate >> train.override(task_id=task_id)(stage, target)


f1_train()
