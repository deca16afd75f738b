"""
### f1_features

Runs whenever `f1/warehouse` changes: validate the raw data (Great Expectations) → build the
point-in-time feature view `race_entry_features_v1` for both stages into a staging folder →
validate the features → publish them and emit `f1/features` with `extra`
`{"view", "version", "build_id", "races"}` (the races whose rows changed).

A failing suite fails its task at once (no retries: the data will not fix itself) and stops the
run: the features in service stay untouched. The task log says which expectation failed, on how
many rows, with examples, and where the JSON results and Data Docs are. The whole chain is
rebuilt each time (ELO is a chain and a full build takes about a second); only changed races
are reported, and when nothing changed no event is emitted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import dag, task

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
)
def f1_features() -> None:
    @task
    def validate_raw() -> list[str]:
        """Races, results, qualifying, standings and weather pass their suites."""
        from pipelines.features import validate_raw_task

        return _gate(validate_raw_task)

    @task
    def build(_checked: list[str]) -> dict[str, Any]:
        """Build both stages into a staging folder."""
        from pipelines.features import build_task

        return build_task()

    @task
    def validate_features(summary: dict[str, Any]) -> dict[str, Any]:
        """The staged build passes the features suite."""
        from pipelines.features import validate_features_task

        _gate(validate_features_task, summary)
        return summary

    @task(outlets=[FEATURES])
    def publish(summary: dict[str, Any], outlet_events: Any = None) -> dict[str, Any]:
        """Put the build into service and announce it (no event when nothing changed)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from pipelines.features import publish_task

        extra = publish_task(summary)
        if extra is None:
            raise AirflowSkipException("the features did not change")
        outlet_events[FEATURES].extra = extra
        return extra

    publish(validate_features(build(validate_raw())))  # type: ignore[arg-type]


f1_features()
