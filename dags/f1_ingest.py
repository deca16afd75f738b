"""
### f1_ingest

Grows the warehouse after every race weekend and announces it on the `f1/warehouse` asset.

**live** (default; Mondays 06:00 UTC and manual runs): reads the Jolpica F1 API
(connection `f1_api`, else `F1_API_BASE_URL`), finds the rounds run before the run's date that
the warehouse lacks or holds without results or standings, fetches only those (per round, or
season-wide pages when many are missing), and writes each round in one transaction. Then
race-time weather from Open-Meteo. The param `season` re-fetches a whole season instead.
API tasks share the one-slot pool `f1_api`, so runs never stack up on its rate limit.

**snapshot**: loads an Ergast-layout CSV snapshot (default: the bundled 1950–2024 history).

Re-running changes nothing. The asset event's `extra` is `{"season", "rounds", "changes", ...}`
(or the snapshot summary); when nothing changed there is no event, so nothing downstream runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task

from dags.assets import WAREHOUSE
from dags.callbacks import CALLBACKS


@dag(
    schedule="0 6 * * 1",
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["f1", "ingest"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2), **CALLBACKS},
    params={
        "mode": Param("live", enum=["live", "snapshot"], description="live API or CSV snapshot"),
        "season": Param(None, type=["null", "integer"], description="re-fetch this season"),
        "snapshot_dir": Param(None, type=["null", "string"], description="snapshot folder"),
    },
)
def f1_ingest() -> None:
    @task(pool="f1_api")
    def ingest(params: dict[str, Any] | None = None, dag_run: Any = None) -> dict[str, Any]:
        """Fetch and write what is missing; bad data fails at once, without retries."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipelines.ingest.records import ApiDataError
        from pipelines.ingest.tasks import ingest_task
        from pipelines.snapshot import SnapshotError
        from plugins.connections import connection_url

        p = params or {}
        try:
            return ingest_task(
                p.get("mode", "live"),
                dag_run.run_after.date(),
                p.get("season"),
                p.get("snapshot_dir"),
                connection_url("f1_api"),
            )
        except (SnapshotError, ApiDataError) as error:  # bad data: retrying cannot help
            raise AirflowFailException(str(error)) from error

    @task(outlets=[WAREHOUSE])
    def weather(
        summary: dict[str, Any],
        dag_run: Any = None,
        outlet_events: Any = None,
    ) -> dict[str, Any]:
        """Race-time weather, then the asset event (skipped when nothing changed)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from pipelines.ingest.tasks import asset_extra, weather_task

        extra = asset_extra(summary, weather_task(summary, dag_run.run_after.date()))
        if extra is None:
            raise AirflowSkipException("nothing new in the warehouse")
        outlet_events[WAREHOUSE].extra = extra
        return extra

    weather(ingest())  # type: ignore[arg-type]  # XComArg resolves to the dict at run time


f1_ingest()
