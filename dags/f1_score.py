"""
### f1_score

Runs once the features are current after an ingest (`f1/features`), and when a model was
registered (`f1/models`) or a champion moved (`f1/champions`): scores every stored prediction
whose race now has a result (log loss, Brier, top-1, top-3 per model version and race, in
`prediction_accuracy`, each stage's baseline beside them: the last winner before qualifying,
grid-only after; the finishing-order versions' markets per market in `market_accuracy`: win,
podium, top 6, points, DNF, the place (log loss, RPS) and teammate head-to-heads), runs the
online gate of each target (a challenger that beats the champion over at least 5 scored races
with 90% paired-bootstrap confidence is promoted, recorded like every alias move), then stores
the predictions of champion and challenger for the next race (and the markets of the
finishing-order champion and challenger, in `market_predictions`) at the freshest stage, with
the run's time: pre_quali until the weekend's first session, post_quali from qualifying until
lights out (a stage is never stored after its cut-off). The run's time is its `run_after`, so a
replay stores what it would have stored then. It then checks drift for that race
(pipelines/drift.py: each feature against the training window, the champion's live log loss
against its validation log loss), stores the figures in `drift_checks`, logs every alert and
posts a new one to the webhook, and stores the season's championship odds after its last race
with results when they are new (`championship_odds`, 10,000 simulated seasons; `GET
/championship/{season}`). Then exports the current season's race results and predictions as CSV
to the artifact store (`F1_ARTIFACTS_URL`/exports/season=YYYY/; S3 through the S3Hook when that
is `s3://…`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import dag, task

from dags.assets import CHAMPIONS, FEATURES, MODELS
from dags.callbacks import CALLBACKS


@dag(
    schedule=(FEATURES | MODELS | CHAMPIONS),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["f1", "models"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2), **CALLBACKS},
)
def f1_score() -> None:
    @task
    def score(dag_run: Any = None) -> dict[str, Any]:
        """Score past predictions, run the online gate, store the next race's."""
        from pipelines.score import scoring_task

        return scoring_task(dag_run.run_after)

    @task
    def export(summary: dict[str, Any]) -> dict[str, Any]:
        """The current season's CSV exports, into the artifact store."""
        from dags.storage import hook_upload
        from pipelines.exports import export_to_store
        from spec.settings import WarehouseSettings
        from warehouse.db import make_engine

        s3 = WarehouseSettings().artifacts_url.startswith("s3://")
        engine = make_engine()
        try:
            return export_to_store(engine, upload=hook_upload() if s3 else None)
        finally:
            engine.dispose()

    export(score())  # type: ignore[arg-type]  # XComArg resolves to the dict at run time


f1_score()
