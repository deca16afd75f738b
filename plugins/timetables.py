"""The platform's timetables: the race calendar's own schedule, and cron without catch-up.

Both never start a run nobody asked for: scheduled for the first time (or unpaused after a
long pause) they wait for the next time in the future instead of running the latest missed
one, as Airflow's cron timetables do with `catchup=False`. A time missed by less than
`GRACE` (a busy scheduler) still runs.

`RaceWeekendTimetable` reads the calendar from the warehouse each time the scheduler asks
for the next run (one small query), so a schedule ingested today, or a session moved, is
followed without redeploying anything. When the warehouse cannot be read it falls back to
the weekly backstop alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, Timetable
from croniter import croniter

if TYPE_CHECKING:
    from airflow.timetables.base import TimeRestriction
    from sqlalchemy import Engine

    from pipelines.weekend import Action

log = logging.getLogger(__name__)
GRACE = dt.timedelta(minutes=15)
EPOCH = dt.datetime(1950, 1, 1, tzinfo=dt.UTC)
LOOK_BACK = dt.timedelta(days=7)  # every action of a weekend falls within days of its race


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def earliest_next(
    last: DataInterval | None, restriction: TimeRestriction, now: dt.datetime
) -> dt.datetime:
    """The earliest time the next scheduled run may fall on: after the last one, not before
    the DAG's start, and (without catch-up) not in the past: a first run is in the future,
    a later one at most `GRACE` late."""
    floor = restriction.earliest or EPOCH
    if last is not None:
        floor = max(floor, last.end + dt.timedelta(microseconds=1))
    if not restriction.catchup:
        floor = max(floor, now - GRACE if last is not None else now)
    return floor


def cron_at_or_after(expression: str, floor: dt.datetime) -> dt.datetime:
    """The first time of the UTC cron `expression` at or after `floor`."""
    at: dt.datetime = croniter(expression, floor - dt.timedelta(microseconds=1)).get_next(
        dt.datetime
    )
    return at.astimezone(dt.UTC)


def _info(at: dt.datetime, restriction: TimeRestriction) -> DagRunInfo | None:
    if restriction.latest is not None and at > restriction.latest:
        return None
    return DagRunInfo.exact(pendulum.from_timestamp(at.timestamp(), tz="UTC"))


Clock = Callable[[], dt.datetime]


class FutureCronTimetable(Timetable):
    """A UTC cron schedule that never catches up: unpausing waits for the next time."""

    def __init__(self, cron: str, clock: Clock = _now) -> None:
        croniter(cron)  # raises on a bad expression
        self.cron = cron
        self.clock = clock
        self.description = f"cron {cron} (UTC), no catch-up"

    @property
    def summary(self) -> str:
        return self.cron

    def serialize(self) -> dict[str, Any]:
        return {"cron": self.cron}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Timetable:
        return cls(data["cron"])

    def infer_manual_data_interval(self, *, run_after: pendulum.DateTime) -> DataInterval:
        return DataInterval.exact(run_after)

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        floor = earliest_next(last_automated_data_interval, restriction, self.clock())
        return _info(self.next_at(floor), restriction)

    def next_at(self, floor: dt.datetime) -> dt.datetime:
        """The first run time at or after `floor`."""
        return cron_at_or_after(self.cron, floor)


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    from warehouse.db import make_engine

    return make_engine(url)


def next_action(floor: dt.datetime) -> Action | None:
    """The first action of the stored calendar at or after `floor` (None when the calendar
    has none, or cannot be read)."""
    from pipelines.weekend import timeline
    from spec.settings import WarehouseSettings
    from warehouse.calendar import weekends

    try:
        engine = _engine(WarehouseSettings().database_url)
        stored = weekends(engine, since=(floor - LOOK_BACK).date())
    except Exception as error:  # noqa: BLE001 (the backstop still runs)
        log.warning("the race calendar could not be read, backstop only: %s", error)
        return None
    return next((a for a in timeline(stored) if a.at >= floor), None)


class RaceWeekendTimetable(FutureCronTimetable):
    """After every session that changes a prediction (from the stored calendar), a day
    before each weekend, and at the weekly backstop (the cron)."""

    def __init__(self, cron: str = "0 6 * * 1", clock: Clock = _now) -> None:
        super().__init__(cron, clock)
        self.description = (
            "race calendar: a day before each weekend, after qualifying, after a sprint run "
            f"after qualifying, after the race; backstop cron {cron} (UTC), no catch-up"
        )

    @property
    def summary(self) -> str:
        return f"race calendar + {self.cron}"

    def next_at(self, floor: dt.datetime) -> dt.datetime:
        """The next calendar action or backstop at or after `floor`."""
        backstop = super().next_at(floor)
        action = next_action(floor)
        return backstop if action is None else min(backstop, action.at)
