"""
### f1_ingest

Brings F1 data into the warehouse and announces it on the `f1/warehouse` asset.

For now it loads an Ergast-layout CSV snapshot (by default the bundled 1950–2024 history):
every file is validated against the data contract first, then upserted in one transaction, so
a bad row fails the task with `file:line:field` and leaves the warehouse as it was. A second
run changes nothing. Trigger it by hand; the param `snapshot_dir` points at another snapshot.

The asset event's `extra` carries `{"mode": "snapshot", "rows_changed": N, "last_race": {...}}`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, task

from dags.assets import WAREHOUSE


@dag(
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    tags=["f1", "ingest"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2)},
    params={
        "snapshot_dir": Param(
            None, type=["null", "string"], description="Snapshot folder; empty = bundled history"
        )
    },
)
def f1_ingest() -> None:
    @task(outlets=[WAREHOUSE])
    def load_snapshot(params: dict | None = None, outlet_events: object = None) -> dict:
        """Validate and upsert the snapshot; a failure writes nothing."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipelines.snapshot import SnapshotError, snapshot_task

        try:
            summary = snapshot_task((params or {}).get("snapshot_dir"))
        except SnapshotError as error:  # bad data: retrying cannot help
            raise AirflowFailException(str(error)) from error
        outlet_events[WAREHOUSE].extra = summary  # type: ignore[index]
        return summary

    load_snapshot()


f1_ingest()
