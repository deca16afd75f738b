"""Runs the platform's DAGs as the scheduler would, on a simulated clock (the engine of
`f1 replay` and of the weekend tests).

Time-scheduled DAGs run at the times their own timetables give (asked with catch-up, so the
simulated past counts, not the wall clock), each with `dag.test()` at that logical date; after
each run, the DAGs its asset events trigger run in the order of the flow, until no event is
left, each one run once per round however many events it consumed, as Airflow queues them.
`dag.test()` passes no triggering events, so `f1_features` gets the rounds the ingests wrote
as its `changes` param (the same rows its events' extras carry). Tasks are not retried: a
retry waits real minutes, and the local API does not fail.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
from airflow.dag_processing.dagbag import DagBag
from airflow.timetables.base import DataInterval, TimeRestriction, Timetable

log = logging.getLogger(__name__)
# the flow's order: a DAG runs after the ones whose assets it consumes
FLOW = ("f1_ingest", "f1_features", "f1_train", "f1_promote", "f1_score")
DAGS = Path(__file__).resolve().parents[1] / "dags"


@dataclass
class RunRecord:
    """One DAG run of the replay: when (simulated), what it was, how it went."""

    dag_id: str
    at: dt.datetime
    run_id: str
    state: str
    seconds: float
    trigger: str  # "schedule", "manual" or the assets that triggered it
    started: dt.datetime  # wall clock
    ended: dt.datetime
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)


Listener = Callable[[str, dt.datetime], None]  # (dag_id, simulated time) when a run starts


class SimulatedScheduler:
    """The platform's DAGs on a simulated clock; `on_run` hears of each run as it starts."""

    def __init__(
        self,
        dag_ids: tuple[str, ...] = FLOW,
        folder: Path = DAGS,
        on_run: Listener | None = None,
        set_clock: Callable[[dt.datetime], None] | None = None,
    ) -> None:
        bag = DagBag(dag_folder=str(folder))
        if bag.import_errors:
            raise RuntimeError(f"DAG files do not parse: {bag.import_errors}")
        self.dags = {dag_id: bag.dags[dag_id] for dag_id in dag_ids}
        for dag in self.dags.values():
            for task in dag.tasks:
                task.retries = 0  # a retry waits real minutes; the local API has no blips
        # dag.test(run_conf=...) leaves the conf in the DAG's params: every run passes all of
        # them, from these defaults
        self.defaults = {dag_id: dag.params.dump() for dag_id, dag in self.dags.items()}
        self.consumes = {dag_id: _schedule_assets(dag) for dag_id, dag in self.dags.items()}
        self.on_run = on_run
        self.set_clock = set_clock
        self.records: list[RunRecord] = []
        self._last: dict[str, DataInterval] = {}
        self._used: dict[tuple[str, dt.datetime], int] = {}

    def fire_times(self, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, str]]:
        """(time, dag_id) of every time-scheduled run from `start` to `end`, in time order
        (the flow's order at equal times), as the DAGs' timetables give them."""
        restriction = TimeRestriction(
            earliest=pendulum.instance(start), latest=pendulum.instance(end), catchup=True
        )
        timed = [d for d in self.dags if not self.consumes[d]]
        while True:
            upcoming = []
            for dag_id in timed:
                timetable = self.dags[dag_id].timetable
                assert isinstance(timetable, Timetable)  # ours: the core protocol
                info = timetable.next_dagrun_info(
                    last_automated_data_interval=self._last.get(dag_id), restriction=restriction
                )
                if info is not None:
                    upcoming.append((info.run_after, FLOW.index(dag_id), dag_id, info))
            if not upcoming:
                return
            at, _, dag_id, info = min(upcoming, key=lambda u: (u[0], u[1]))
            assert info.data_interval is not None
            self._last[dag_id] = info.data_interval
            # a plain datetime: pendulum's arithmetic drops a stdlib tzinfo
            yield dt.datetime.fromtimestamp(at.timestamp(), dt.UTC), dag_id

    def play(
        self, start: dt.datetime, end: dt.datetime, history: Path, train: bool = True
    ) -> list[RunRecord]:
        """The platform's first run at `start`, then every scheduled run until `end`, each
        with what its events trigger."""
        self.first_run(start, history, train)
        for at, dag_id in self.fire_times(start, end):
            self.run(dag_id, at)
        return self.records

    def first_run(self, start: dt.datetime, history: Path, train: bool = True) -> None:
        """Load `history` (an Ergast-layout folder) with f1_ingest, fetch the season's calendar
        with a live f1_ingest, and train the first models with f1_train (unless `train` is
        False), each with what its events trigger."""
        self.run("f1_ingest", start, {"mode": "snapshot", "snapshot_dir": str(history)}, "manual")
        self.run("f1_ingest", start, None, "manual")  # live: the season's calendar
        if train:
            self.run("f1_train", start, None, "manual")

    def run(
        self, dag_id: str, at: dt.datetime, conf: dict[str, Any] | None = None, why: str = ""
    ) -> list[RunRecord]:
        """Run `dag_id` at `at` and then every DAG its events trigger; the runs, in order."""
        first = self._run_one(dag_id, at, conf, why or "schedule")
        done = [first]
        queued: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._queue(queued, first.events)
        while queued:
            consumer = next(d for d in self.dags if d in queued)
            events = queued.pop(consumer)
            names = sorted({name for name, _ in events})
            record = self._run_one(consumer, at, _conf(consumer, events), ", ".join(names))
            done.append(record)
            self._queue(queued, record.events)
        return done

    def _queue(
        self, queued: dict[str, list[tuple[str, dict[str, Any]]]], events: list[Any]
    ) -> None:
        for name, extra in events:
            for dag_id, assets in self.consumes.items():
                if name in assets:
                    queued.setdefault(dag_id, []).append((name, extra))

    def _run_one(
        self, dag_id: str, at: dt.datetime, conf: dict[str, Any] | None, trigger: str
    ) -> RunRecord:
        # runs at one simulated time get distinct logical dates (a millisecond apart), so
        # each is a run of its own; the first one keeps the exact time its timetable gave
        n = self._used.get((dag_id, at), 0)
        self._used[(dag_id, at)] = n + 1
        when = at + dt.timedelta(milliseconds=n)
        if self.set_clock:
            self.set_clock(when)
        if self.on_run:
            self.on_run(dag_id, when)
        started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
        params = {**self.defaults[dag_id], **(conf or {})}
        run = self.dags[dag_id].test(logical_date=when, run_after=when, run_conf=params)
        seconds = time.perf_counter() - clock
        instances = run.get_task_instances()
        failed = [ti.task_id for ti in instances if ti.state == "failed"]
        announced = any(
            ti.state == "success" and self.dags[dag_id].task_dict[ti.task_id].outlets
            for ti in instances
        )
        record = RunRecord(
            dag_id,
            when,
            run.run_id,
            str(run.state),
            seconds,
            trigger,
            started,
            dt.datetime.now(dt.UTC),
            _events(dag_id, run.run_id, announced),
            failed,
        )
        log.info("%s %s at %s: %s in %.1fs", dag_id, trigger, when, record.state, seconds)
        self.records.append(record)
        return record


def _schedule_assets(dag: Any) -> set[str]:
    """The asset names a DAG's schedule consumes (empty for a time schedule)."""

    def names(condition: Any) -> set[str]:
        if not condition:  # a time schedule (None, or core's null asset)
            return set()
        if hasattr(condition, "objects"):  # AssetAny / AssetAll (the flow only uses any-of)
            return {name for part in condition.objects for name in names(part)}
        return {condition.name}

    return names(getattr(dag.timetable, "asset_condition", None))


def _events(dag_id: str, run_id: str, announced: bool) -> list[tuple[str, dict[str, Any]]]:
    """(asset name, extra) of the events a run emitted. The execution API commits them a
    moment after the run ends: when a task with outlets succeeded, wait (2 s at most) for
    them to show."""
    deadline = time.monotonic() + 2.0
    while True:
        found = _stored_events(dag_id, run_id)
        if found or not announced or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _stored_events(dag_id: str, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        # the thread's session may still hold the read snapshot dag.test() took before the
        # run's tasks wrote their events: end it first
        session.commit()
        rows = session.execute(
            select(AssetModel.name, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
            .order_by(AssetEvent.id)
        ).all()
    return [(name, dict(extra or {})) for name, extra in rows]


def _conf(dag_id: str, events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """What a triggered run gets instead of its triggering events (only f1_features reads
    them: the rounds written, or nothing for a full build)."""
    if dag_id != "f1_features":
        return None
    from pipelines.features import warehouse_changes

    changes = warehouse_changes([extra for name, extra in events if name == "f1/warehouse"])
    return {"changes": changes} if changes else None
