"""
### f1_ingest

Grows the warehouse as a race weekend happens and announces it on the `f1/warehouse` asset.

**When** (timetable `RaceWeekendTimetable`, `plugins/timetables.py`): computed from the race
calendar stored in the warehouse, so the schedule follows the season without a redeploy:
- a day before each weekend's first session (`pre_weekend`: the latest weather forecast, and
  the pre_quali predictions downstream);
- 2 h after qualifying starts (`after_quali`: the grid, for the post_quali predictions), and
  2 h after a sprint run after qualifying (`after_sprint`);
- 3 h after the race starts (`after_race`: results, standings, then scoring);
- Mondays 06:00 UTC, the backstop: whatever is still missing.
A custom timetable rather than a frequent cheap run: the runs in the UI are the weekend's
moments, nothing polls between them, and an off-season week costs one run and one API
request. Unpausing never starts a run nobody asked for: the next run is the next moment in
the future (a moment missed by less than 15 minutes still runs).

**What** (mode `live`): `plan` names the calendar action the run is for (no request);
`published` waits until the API has the session's data, poking every 15 minutes for up to
12 hours in reschedule mode (no worker slot is held between pokes); `ingest` then fetches the
results of finished races the warehouse lacks and the qualifying and sprint of the next
race once published, each round in one transaction; `weather` adds race-time weather from
Open-Meteo (forecast for the next race). API tasks share the one-slot pool `f1_api`. The
param `season` re-fetches a whole season; mode `snapshot` loads an Ergast-layout CSV folder.

Re-running changes nothing. The asset event's `extra` is `{"season", "rounds", "changes",
"as_of", ...}` (or the snapshot summary); when nothing changed there is no event, so nothing
downstream runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import Param, dag, task

from dags.assets import WAREHOUSE
from dags.callbacks import CALLBACKS
from plugins.timetables import RaceWeekendTimetable

POKE_S = dt.timedelta(minutes=15).total_seconds()
WAIT_S = dt.timedelta(hours=12).total_seconds()


def _as_of(dag_run: Any) -> dt.datetime:
    """The run's own time: the calendar moment it was scheduled for, else when triggered."""
    return dag_run.logical_date or dag_run.run_after


@dag(
    schedule=RaceWeekendTimetable("0 6 * * 1"),
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
    @task
    def plan(params: dict[str, Any] | None = None, dag_run: Any = None) -> dict[str, Any]:
        """The calendar action this run is for and the data it waits for (no request)."""
        from pipelines.ingest.tasks import plan_task

        p = params or {}
        return plan_task(_as_of(dag_run), p.get("mode", "live"), p.get("season"))

    @task.sensor(poke_interval=POKE_S, timeout=WAIT_S, mode="reschedule")
    def published(plan: dict[str, Any]) -> bool:
        """The API has the session's data (one request per poke; none when nothing is awaited)."""
        from pipelines.ingest.tasks import published_task
        from plugins.connections import connection_url

        return published_task(plan, connection_url("f1_api"))

    @task(pool="f1_api")
    def ingest(plan: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fetch and write what is due; bad data fails at once, without retries."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipelines.ingest.records import ApiDataError
        from pipelines.ingest.tasks import ingest_task
        from pipelines.snapshot import SnapshotError
        from plugins.connections import connection_url

        p = params or {}
        try:
            return ingest_task(
                p.get("mode", "live"),
                dt.datetime.fromisoformat(plan["as_of"]),
                p.get("season"),
                p.get("snapshot_dir"),
                connection_url("f1_api"),
            )
        except (SnapshotError, ApiDataError) as error:  # bad data: retrying cannot help
            raise AirflowFailException(str(error)) from error

    @task(outlets=[WAREHOUSE])
    def weather(
        plan: dict[str, Any], summary: dict[str, Any], outlet_events: Any = None
    ) -> dict[str, Any]:
        """Race-time weather, then the asset event (skipped when nothing changed)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from pipelines.ingest.tasks import asset_extra, weather_task

        as_of = dt.datetime.fromisoformat(plan["as_of"])
        extra = asset_extra(summary, weather_task(summary, as_of))
        if extra is None:
            raise AirflowSkipException("nothing new in the warehouse")
        outlet_events[WAREHOUSE].extra = extra
        return extra

    planned = plan()
    summary = ingest(planned)  # type: ignore[arg-type]  # XComArg resolves to the dict at run time
    published(planned) >> summary  # type: ignore[arg-type]
    weather(planned, summary)  # type: ignore[arg-type]


f1_ingest()
