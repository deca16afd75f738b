"""
### f1_train

Trains the race-winner ensemble of both stages whenever `f1/features` is updated (and weekly):
each run evaluates the recipe walk-forward on the two most recent complete seasons, fits it on
every season from 1981, logs parameters, metrics, plots and the model to MLflow, registers a
new version of `f1_winner_pre_quali` / `f1_winner_post_quali` and gives it the alias
`challenger` (the very first version also becomes `champion`). Emits `f1/models` with
`extra` `{"name", "version", "run_id"}` per stage.

Params `start` and `last` narrow the seasons (tests train on a short range).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from dags.assets import FEATURES, MODELS
from dags.callbacks import CALLBACKS

STAGES = ("pre_quali", "post_quali")


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * 1", timezone="UTC"), assets=FEATURES
    ),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["f1", "models"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5), **CALLBACKS},
    params={
        "start": Param(1981, type="integer", description="first training season"),
        "last": Param(None, type=["null", "integer"], description="last season (default: all)"),
    },
)
def f1_train() -> None:
    @task(outlets=[MODELS])
    def train(
        stage: str,
        params: dict[str, Any] | None = None,
        outlet_events: Any = None,
    ) -> dict[str, Any]:
        """One MLflow training run of `stage`; the registered version becomes the challenger."""
        from pipelines.train import result_dict
        from pipelines.train import train as run_training
        from warehouse.db import make_engine

        p = params or {}
        engine = make_engine()
        try:
            result = result_dict(
                run_training(engine, stage, int(p.get("start") or 1981), p.get("last"))
            )
        finally:
            engine.dispose()
        extra = {k: result[k] for k in ("name", "version", "run_id")}
        outlet_events[MODELS].extra = extra
        return extra

    for stage in STAGES:
        train.override(task_id=f"train_{stage}")(stage)


f1_train()
