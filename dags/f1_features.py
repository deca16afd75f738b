"""
### f1_features

Runs whenever `f1/warehouse` changes: validate the raw data (Great Expectations) → build the
point-in-time feature view `race_entry_features_v1` for both stages into a staging folder →
validate the features → publish them and emit `f1/features` with `extra`
`{"view", "version", "build_id", "races"}` (the races whose rows changed; empty when the
warehouse change touched no feature: the event then says the features are current).

Incremental: the triggering events name the rounds the ingest wrote; only the seasons they
belong to are validated, and only the rows of races from the earliest of them on are rebuilt
(a feature only reads earlier races) and validated. A snapshot load, or a manual run without
the param `changes`, rebuilds and validates everything.

A failing suite fails its task at once (no retries: the data will not fix itself) and stops the
run: the features in service stay untouched. The task log says which expectation failed, on how
many rows, with examples, and where the JSON results and Data Docs are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task

from dags.assets import FEATURES, WAREHOUSE
from dags.callbacks import CALLBACKS


def _gate(step: Any, *args: Any) -> Any:
    """Run a validation step; a failed suite fails the task without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    from pipelines.validate import ValidationFailed

    try:
        return step(*args)
    except ValidationFailed as error:
        raise AirflowFailException(str(error)) from error


@dag(
    schedule=[WAREHOUSE],
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["f1", "features"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=1), **CALLBACKS},
    params={
        "changes": Param(
            None,
            type=["null", "array"],
            description='rounds written, as in f1/warehouse events: [{"season", "rounds"}]',
        )
    },
)
def f1_features() -> None:
    @task
    def changes(
        params: dict[str, Any] | None = None, triggering_asset_events: Any = None
    ) -> list[dict[str, Any]]:
        """The rounds the triggering ingests wrote (empty: rebuild everything)."""
        from pipelines.features import warehouse_changes

        given = (params or {}).get("changes")
        if given is not None:
            return warehouse_changes([{"changes": given}])
        events = triggering_asset_events.get(WAREHOUSE, []) if triggering_asset_events else []
        return warehouse_changes([dict(event.extra or {}) for event in events])

    @task
    def validate_raw(written: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Races, results, qualifying, standings and weather pass their suites."""
        from pipelines.features import validate_raw_task

        _gate(validate_raw_task, written)
        return written

    @task
    def build(written: list[dict[str, Any]]) -> dict[str, Any]:
        """Build both stages into a staging folder (from the earliest race written on)."""
        from pipelines.features import build_task

        return build_task(written)

    @task
    def validate_features(summary: dict[str, Any]) -> dict[str, Any]:
        """The staged build's changed rows pass the features suite."""
        from pipelines.features import validate_features_task

        _gate(validate_features_task, summary)
        return summary

    @task(outlets=[FEATURES])
    def publish(summary: dict[str, Any], outlet_events: Any = None) -> dict[str, Any]:
        """Put the build into service and announce it."""
        from pipelines.features import publish_task

        extra = publish_task(summary)
        outlet_events[FEATURES].extra = extra
        return extra

    publish(validate_features(build(validate_raw(changes()))))  # type: ignore[arg-type]


f1_features()
