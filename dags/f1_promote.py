"""
### f1_promote

Runs when `f1/models` is updated (a new challenger was registered). For each target and stage,
the offline gate compares the challenger with the champion on the per-race scores (log loss of
the winner, RPS of the finishing order) both training runs stored for the same validation races
(the two most recent complete seasons) with a paired bootstrap. The challenger becomes
`champion` only when it is better with at least 90% confidence and passes the sanity checks (its
signature is the feature view's; on the latest races its probabilities are finite and sum to 1;
a finishing-order model's markets coherent). Every move is recorded as MLflow version tags and
in the warehouse table `model_events`; otherwise the challenger stays a challenger. A move is
announced on `f1/champions` (`extra`: `{stage: decision}`), so `f1_score` stores the new
champion's predictions; the service follows the registry on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import dag, task

from dags.assets import CHAMPIONS, MODELS
from dags.callbacks import CALLBACKS
from spec import STAGES, TARGETS


@dag(
    schedule=MODELS,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["f1", "models"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2), **CALLBACKS},
)
def f1_promote() -> None:
    @task
    def gate(stage: str, target: str) -> dict[str, Any]:
        """The offline gate of one (stage, target); returns the decision and its evidence."""
        from pipelines.promote import offline_gate_task

        return offline_gate_task(stage, target)

    @task(outlets=[CHAMPIONS])
    def announce(decisions: list[dict[str, Any]], outlet_events: Any = None) -> dict[str, Any]:
        """Announce the champions that moved (skipped when none did)."""
        from airflow.sdk.exceptions import AirflowSkipException

        moved = {d["name"]: d for d in decisions if d["promoted"]}
        if not moved:
            raise AirflowSkipException("no champion moved")
        outlet_events[CHAMPIONS].extra = moved
        return moved

    decisions = [
        # task ids of the winner models kept as they were (`gate_post_quali`)
        gate.override(task_id=f"gate_{stage}" if t == "winner" else f"gate_{t}_{stage}")(stage, t)
        for t in TARGETS.names
        for stage in STAGES.names
    ]
    announce(decisions)  # type: ignore[arg-type]  # XComArgs resolve to the dicts at run time


f1_promote()
