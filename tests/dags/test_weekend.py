"""A race weekend run by the DAGs on their own schedule (dag.test() at the times the timetables
give, and what their assets trigger), against a local F1 API that reveals each session only
after it happened and a local Open-Meteo: the 2024 Singapore Grand Prix, with the session
registry's real models."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from feature_store.store import read_offline
from pipelines.snapshot import BUNDLED
from replay.ergast import JolpicaApi
from replay.openf1 import OpenF1Api
from replay.season import Clock, ReplaySeason
from tests.servers.base import LocalServer
from tests.servers.open_meteo import OpenMeteoApi
from warehouse.calendar import PRACTICE_PUBLISHED
from warehouse.db import as_utc, make_engine
from warehouse.migrate import upgrade
from warehouse.schema import (
    PracticeResult,
    Prediction,
    PredictionAccuracy,
    QualifyingResult,
    Race,
    WeatherData,
)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


THURSDAY = at(2024, 9, 19, 9, 30)  # a day before FP1
PRACTICE = at(2024, 9, 21, 11, 0)  # FP3 (09:30) published by OpenF1
SATURDAY = at(2024, 9, 21, 15, 0)  # qualifying (13:00) published
SUNDAY = at(2024, 9, 22, 15, 0)  # the race (12:00) published
MONDAY = at(2024, 9, 23, 6, 0)  # the backstop


class ScaledClock(Clock):
    """Simulated time that also moves on its own: `scale` simulated seconds per real one (a
    sensor poking once a real second sees 15 simulated minutes go by)."""

    def __init__(self, start: dt.datetime, scale: float) -> None:
        super().__init__(start)
        self.scale, self._real = scale, time.monotonic()

    def now(self) -> dt.datetime:
        elapsed = (time.monotonic() - self._real) * self.scale
        return super().now() + dt.timedelta(seconds=elapsed)

    def set(self, moment: dt.datetime) -> None:
        super().set(moment)
        self._real = time.monotonic()


@pytest.fixture
def weekend(aliases, airflow_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """Stores of our own (warehouse, features) beside the session's registry (post_quali
    champion v2, challenger v1; pre_quali v1), the local APIs, and the simulated scheduler."""
    aliases(champion="2", challenger="1")
    monkeypatch.setenv("F1_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{tmp_path / 'warehouse.db'}")
    monkeypatch.setenv("F1_API_RATE_PER_SECOND", "1000")
    monkeypatch.delenv("AIRFLOW_CONN_F1_API", raising=False)
    engine = make_engine()
    upgrade(engine)
    season = ReplaySeason.load([BUNDLED], 2024, (18, 18))
    state: dict[str, Any] = {
        "engine": engine,
        "season": season,
        "history": tmp_path / "cut",
        "env": monkeypatch,
    }
    clocks: list[Clock] = []  # the test's clock, once `_start` has it
    practice = OpenF1Api(
        season.openf1_data(),
        lambda _race, start: bool(clocks) and start + PRACTICE_PUBLISHED <= clocks[-1].now(),
    )
    with LocalServer(OpenMeteoApi()) as meteo, LocalServer(practice) as openf1:
        monkeypatch.setenv("OPEN_METEO_ARCHIVE_URL", f"{meteo.url}/v1/archive")
        monkeypatch.setenv("OPEN_METEO_FORECAST_URL", f"{meteo.url}/v1/forecast")
        monkeypatch.setenv("F1_PRACTICE", "true")
        monkeypatch.setenv("OPENF1_BASE_URL", f"{openf1.url}/v1")
        monkeypatch.setenv("OPENF1_RATE_PER_SECOND", "1000")
        state.update(meteo=meteo, openf1=openf1, clocks=clocks)
        yield state
    engine.dispose()


def _start(state: dict, clock: Clock, visible: Any = None) -> tuple[Any, LocalServer]:  # type: ignore[type-arg]
    """The local F1 API on `clock` and the scheduler, after the platform's first run."""
    from plugins.replay import SimulatedScheduler

    season: ReplaySeason = state["season"]
    state["clocks"].append(clock)  # what the local OpenF1 reveals practice by
    api = JolpicaApi(season.api_data(), visible or season.visible(clock))
    server = LocalServer(api).__enter__()
    state["env"].setenv("F1_API_BASE_URL", f"{server.url}/ergast/f1")
    scheduler = SimulatedScheduler(set_clock=clock.set)
    return scheduler, server


def _first_run(state: dict, scheduler: Any) -> None:  # type: ignore[type-arg]
    season: ReplaySeason = state["season"]
    scheduler.first_run(season.start, season.history(state["history"]), train=False)


def _stored(engine: Any, round_: int) -> dict[tuple[str, str], tuple[str, dt.datetime, int]]:
    """(stage, version) → (alias, stored at, rows) of the predictions of 2024 round `round_`."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Prediction.stage,
                Prediction.model_version,
                Prediction.alias,
                func.max(Prediction.created_at),
                func.count(),
            )
            .join(Race, Race.id == Prediction.race_id)
            .where(Race.season == 2024, Race.round == round_)
            .group_by(Prediction.stage, Prediction.model_version, Prediction.alias)
        ).all()
    return {(s, v): (a, as_utc(t), n) for s, v, a, t, n in rows}


def test_a_weekend_stores_each_stage_at_its_time(weekend: dict) -> None:  # type: ignore[type-arg]
    engine, season = weekend["engine"], weekend["season"]
    clock = Clock(season.start)
    scheduler, server = _start(weekend, clock)
    try:
        _first_run(weekend, scheduler)
        # the first run (Thursday 08:30): history, the calendar, the first pre_quali prediction
        first = _stored(engine, 18)
        assert set(first) == {("pre_quali", "1")}
        # the forecast for Sunday turns wet before the weekend's first run
        weekend["meteo"].route.rain["2024-09-22"] = [2.0] * 24
        fired = list(scheduler.fire_times(season.start, MONDAY))
        assert fired == [
            (THURSDAY, "f1_ingest"),
            (PRACTICE, "f1_ingest"),
            (SATURDAY, "f1_ingest"),
            (SUNDAY, "f1_ingest"),
            (MONDAY, "f1_ingest"),
        ]
        runs: dict[dt.datetime, list[str]] = {}
        requests: dict[dt.datetime, int] = {}
        for when, dag_id in fired:
            before = len(server.requests)
            runs[when] = [r.dag_id for r in scheduler.run(dag_id, when)]
            requests[when] = len(server.requests) - before
            if when == THURSDAY:
                thursday = _stored(engine, 18)
            if when == PRACTICE:
                practiced = _stored(engine, 18)
            if when == SATURDAY:
                saturday = _stored(engine, 18)
    finally:
        server.__exit__(None, None, None)
    assert all(r.state == "success" for r in scheduler.records), [
        (r.dag_id, r.at, r.failed_tasks) for r in scheduler.records if r.state != "success"
    ]
    # Thursday: the new forecast reaches the features, and pre_quali is stored again
    assert runs[THURSDAY] == ["f1_ingest", "f1_features", "f1_score"]
    assert thursday == {("pre_quali", "1"): ("champion", THURSDAY, 20)}
    with engine.connect() as connection:
        forecasts = connection.execute(
            select(WeatherData.issued_at, WeatherData.condition)
            .join(Race)
            .where(Race.season == 2024, Race.round == 18, WeatherData.source == "forecast")
            .order_by(WeatherData.issued_at)
        ).all()
    # a forecast per run that asked: the first run's dry one, then Thursday's wet one (the
    # latest before FP1, what the pre_quali features hold; later runs ask again)
    assert [c for _, c in forecasts[:2]] == ["dry", "wet"]
    assert forecasts[1][0].replace(tzinfo=None) == THURSDAY.replace(tzinfo=None)
    published = read_offline("pre_quali", since=2024)
    assert (published.loc[published["round"] == 18, "wet"] == 1.0).all()
    # Saturday after FP3: the weekend's practice from OpenF1, post_practice stored then
    assert runs[PRACTICE] == ["f1_ingest", "f1_features", "f1_score"]
    assert practiced == {
        ("pre_quali", "1"): ("champion", THURSDAY, 20),
        ("post_practice", "1"): ("champion", PRACTICE, 20),
    }
    with engine.connect() as connection:
        sessions = connection.execute(
            select(PracticeResult.session, func.count())
            .join(Race)
            .where(Race.season == 2024, Race.round == 18)
            .group_by(PracticeResult.session)
        ).all()
    assert sorted(sessions) == [(1, 20), (2, 20), (3, 20)]
    # Saturday after qualifying: post_quali of champion (v2) and challenger (v1), stored then;
    # pre_quali is closed since Friday's first session and stays as stored on Thursday
    assert runs[SATURDAY] == ["f1_ingest", "f1_features", "f1_score"]
    assert saturday == {
        ("pre_quali", "1"): ("champion", THURSDAY, 20),
        ("post_practice", "1"): ("champion", PRACTICE, 20),
        ("post_quali", "2"): ("champion", SATURDAY, 20),
        ("post_quali", "1"): ("challenger", SATURDAY, 20),
    }
    # Sunday after the race: results scored, nothing of round 18 re-stored, round 19 predicted
    assert runs[SUNDAY] == ["f1_ingest", "f1_features", "f1_score"]
    assert _stored(engine, 18) == saturday
    assert _stored(engine, 19) == {("pre_quali", "1"): ("champion", SUNDAY, 20)}
    with engine.connect() as connection:
        scored = connection.execute(
            select(PredictionAccuracy.stage, PredictionAccuracy.model_version)
            .join(Race)
            .where(Race.season == 2024, Race.round == 18)
        ).all()
    assert sorted(scored) == [
        ("post_practice", "1"),
        ("post_practice", "final_practice"),
        ("post_quali", "1"),
        ("post_quali", "2"),
        ("post_quali", "grid"),
        ("pre_quali", "1"),
        ("pre_quali", "last_winner"),
    ]
    # Monday: the backstop finds nothing missing, with one request, and triggers nothing
    assert runs[MONDAY] == ["f1_ingest"] and requests[MONDAY] == 1
    # the weekend's sessions cost one request each (schedule + the session) and one poke
    assert requests[SATURDAY] == 3  # poke, schedule, qualifying
    # poke, schedule, results, qualifying, 2 standings, a page of laps (none on this server)
    assert requests[SUNDAY] == 1 + 1 + 4 + 1


def test_a_qualifying_published_late_is_picked_up_by_the_sensor(weekend: dict) -> None:  # type: ignore[type-arg]
    """Qualifying appears 3 hours after it normally would: the sensor keeps poking (every
    real second here, each worth 15 simulated minutes) until it does."""
    engine, season = weekend["engine"], weekend["season"]
    late = dt.timedelta(hours=3)
    clock = ScaledClock(season.start, scale=900.0)
    usual = season.visible(clock)

    def visible(endpoint: str, race: tuple[int, int]) -> bool:
        if endpoint == "qualifying" and race == (2024, 18):
            return clock.now() >= SATURDAY + late
        return usual(endpoint, race)

    scheduler, server = _start(weekend, clock, visible)
    sensor = scheduler.dags["f1_ingest"].get_task("published")
    sensor.poke_interval = 1.0  # 15 simulated minutes, as in production
    try:
        _first_run(weekend, scheduler)
        before = len(server.requests)
        records = scheduler.run("f1_ingest", SATURDAY)
        pokes = [p for p in server.requests[before:] if "/2024/18/qualifying.json?limit=1&" in p]
    finally:
        server.__exit__(None, None, None)
    assert [r.state for r in records] == ["success"] * 3, [r.failed_tasks for r in records]
    # every poke but the last found nothing: 3 simulated hours of pokes, each a little more
    # than 15 simulated minutes apart (dag.test() looks once a real second)
    assert 6 <= len(pokes) <= 13
    with engine.connect() as connection:
        grid = connection.scalar(
            select(func.count())
            .select_from(QualifyingResult)
            .join(Race)
            .where(Race.season == 2024, Race.round == 18)
        )
    assert grid == 20
    assert ("post_quali", "2") in _stored(engine, 18)


def test_an_off_season_monday_costs_one_request(
    airflow_db, history_copy: Path, jolpica: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS, asset_events

    monkeypatch.setenv("F1_API_BASE_URL", f"{jolpica.url}/ergast/f1")
    monkeypatch.setenv("F1_WEATHER", "false")
    f1_ingest = DagBag(dag_folder=str(DAGS / "f1_ingest.py")).dags["f1_ingest"]
    events = len(asset_events("f1/warehouse"))
    for monday in (at(2024, 12, 16, 6), at(2025, 1, 13, 6)):  # after the final; the new year
        before = len(jolpica.requests)
        run = f1_ingest.test(logical_date=monday, run_after=monday)
        assert run.state == "success"
        assert jolpica.requests[before:] == [f"/ergast/f1/{monday.year}.json?limit=100&offset=0"]
    assert len(asset_events("f1/warehouse")) == events  # nothing new: nothing downstream
