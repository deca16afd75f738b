"""Practice from a local OpenF1-shaped API: a weekend ingested and mapped to our ids, a late
session picked up once published, a mid-season replacement mapped, a driver known nowhere left
out (and a session of them refused with nothing written), faults ridden out (SQLite and
PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from pipelines.ingest.http import JsonClient, RateLimiter
from pipelines.ingest.openf1 import OpenF1Client
from pipelines.ingest.practice import ingest_practice
from pipelines.ingest.records import ApiDataError
from pipelines.snapshot import BUNDLED, load_snapshot
from tests.servers.base import Fault, LocalServer
from tests.servers.fixtures import FAST
from tests.servers.openf1 import OpenF1Api
from tests.snapshots import snapshot_until
from warehouse.calendar import weekends
from warehouse.db import transaction
from warehouse.schema import (
    Circuit,
    Driver,
    PracticeResult,
    QualifyingResult,
    Race,
    RaceResult,
    Team,
)

RACE_ID = 1119  # 2024 R18, Singapore: FP1 and FP2 on Friday, FP3 on Saturday, then qualifying
STARTS = {1: "2024-09-20T09:30:00", 2: "2024-09-20T13:00:00", 3: "2024-09-21T09:30:00"}
AFTER_FP3 = dt.datetime(2024, 9, 21, 11, 0, tzinfo=dt.UTC)  # FP3's start + 90 minutes


def _csv(name: str) -> list[dict[str, str]]:
    with (BUNDLED / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _recorded() -> tuple[OpenF1Api, dict[tuple[int, str], tuple[int, int | None, int | None]]]:
    """Singapore 2024's three practice sessions as OpenF1 serves them (from the bundled
    history), and what the warehouse must hold after: (session, driver ref) -> (position,
    milliseconds, laps)."""
    drivers = {d["driverId"]: d for d in _csv("drivers.csv")}
    teams = {t["constructorId"]: t["name"] for t in _csv("constructors.csv")}
    api, expected = OpenF1Api(), {}
    for session, start in STARTS.items():
        key = 9600 + session
        begins = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
        ends = begins + dt.timedelta(hours=1)
        api.sessions.append({
            "session_key": key, "meeting_key": 1244, "year": 2024,
            "session_name": f"Practice {session}", "session_type": "Practice",
            "date_start": begins.isoformat(), "date_end": ends.isoformat(),
            "country_name": "Singapore", "circuit_short_name": "Singapore",
        })  # fmt: skip
        rows = [r for r in _csv("practice_results.csv")
                if r["raceId"] == str(RACE_ID) and r["session"] == str(session)]  # fmt: skip
        api.results[key], api.drivers[key] = [], []
        for row in rows:
            driver = drivers[row["driverId"]]
            ms = None if row["milliseconds"] == "\\N" else int(row["milliseconds"])
            laps = None if row["laps"] == "\\N" else int(row["laps"])
            api.results[key].append({
                "session_key": key, "meeting_key": 1244, "position": int(row["position"]),
                "driver_number": int(row["number"]), "number_of_laps": laps,
                "duration": None if ms is None else ms / 1000, "gap_to_leader": 0,
                "dnf": False, "dns": False, "dsq": False,
            })  # fmt: skip
            api.drivers[key].append({
                "session_key": key, "driver_number": int(row["number"]),
                "name_acronym": driver["code"], "last_name": driver["surname"].upper(),
                "full_name": f"{driver['forename']} {driver['surname']}".upper(),
                "team_name": teams[row["constructorId"]],
            })  # fmt: skip
            expected[(session, driver["driverRef"])] = (int(row["position"]), ms, laps)
    # a session of another weekend of the year, which must not be taken for this one
    api.sessions.append({**api.sessions[0], "session_key": 9500,
                         "date_start": "2024-09-13T09:30:00+00:00"})  # fmt: skip
    return api, expected


@pytest.fixture
def before_singapore(migrated, tmp_path: Path) -> Engine:  # type: ignore[no-untyped-def]
    """A warehouse holding 2024 up to R17 and Singapore's calendar entry (no results)."""
    load_snapshot(migrated, snapshot_until(tmp_path / "until-r17", 2024, 17))
    race = next(r for r in _csv("races.csv") if r["raceId"] == str(RACE_ID))
    with transaction(migrated) as session:
        circuit = session.scalar(select(Circuit.id).where(Circuit.ref == "marina_bay"))
        day = dt.date.fromisoformat
        clock = dt.time.fromisoformat
        session.add(Race(
            id=RACE_ID, season=2024, round=18, circuit_id=circuit, name=race["name"],
            date=day(race["date"]), time=clock(race["time"]),
            fp1_date=day(race["fp1_date"]), fp1_time=clock(race["fp1_time"]),
            fp2_date=day(race["fp2_date"]), fp2_time=clock(race["fp2_time"]),
            fp3_date=day(race["fp3_date"]), fp3_time=clock(race["fp3_time"]),
            quali_date=day(race["quali_date"]), quali_time=clock(race["quali_time"]),
        ))  # fmt: skip
    return migrated


@pytest.fixture
def openf1() -> Iterator[tuple[LocalServer, OpenF1Api, dict[Any, Any]]]:
    api, expected = _recorded()
    with LocalServer(api) as server:
        yield server, api, expected


def _client(server: LocalServer) -> OpenF1Client:
    return OpenF1Client(JsonClient(f"{server.url}/v1", limiter=RateLimiter(1000), policy=FAST))


def _stored(engine: Engine) -> dict[tuple[int, str], tuple[int, int | None, int | None]]:
    with transaction(engine) as session:
        rows = session.execute(
            select(PracticeResult.session, Driver.ref, PracticeResult.position,
                   PracticeResult.milliseconds, PracticeResult.laps)
            .join(Driver, Driver.id == PracticeResult.driver_id)
            .where(PracticeResult.race_id == RACE_ID)
        ).all()  # fmt: skip
    return {(s, ref): (p, ms, laps) for s, ref, p, ms, laps in rows}


def _singapore(engine: Engine):  # type: ignore[no-untyped-def]
    return next(w for w in weekends(engine) if w.race_id == RACE_ID)


def test_a_weekends_practice_is_ingested_and_mapped_to_our_ids(before_singapore, openf1) -> None:
    server, _, expected = openf1
    client = _client(server)
    weekend = _singapore(before_singapore)
    assert [n for n, _ in client.practice_sessions(weekend)] == [1, 2, 3]
    assert weekend.practice_done == AFTER_FP3
    reports = ingest_practice(before_singapore, client, AFTER_FP3)
    assert [(r.season, r.rounds, r.changed) for r in reports] == [(2024, [18], 60)]
    assert _stored(before_singapore) == expected
    # Norris's FP1 best lap is the bundled 1:32.337 (92,337 ms), and he is mapped by number 4
    assert expected[(1, "norris")][1] == _stored(before_singapore)[(1, "norris")][1]
    # nothing to do once held: no request for results again
    before = len(server.requests)
    assert ingest_practice(before_singapore, client, AFTER_FP3 + dt.timedelta(hours=1)) == []
    assert len(server.requests) == before


def test_nothing_is_fetched_before_the_last_session_is_over(before_singapore, openf1) -> None:
    server, _, _ = openf1
    assert (
        ingest_practice(before_singapore, _client(server), AFTER_FP3 - dt.timedelta(minutes=1))
        == []
    )
    assert server.requests == [] and _stored(before_singapore) == {}


def test_a_late_session_is_picked_up_once_published(before_singapore, openf1) -> None:
    server, api, expected = openf1
    client = _client(server)
    api.late.add(9603)  # FP3's classification is not out yet
    weekend = _singapore(before_singapore)
    assert client.published(weekend) is False  # the sensor keeps waiting
    ingest_practice(before_singapore, client, AFTER_FP3)
    assert {s for s, _ in _stored(before_singapore)} == {1, 2}
    api.late.clear()
    assert client.published(weekend) is True
    ingest_practice(before_singapore, client, AFTER_FP3 + dt.timedelta(minutes=15))
    assert _stored(before_singapore) == expected


def test_a_mid_season_replacement_is_mapped_through_his_teammate(before_singapore, openf1) -> None:
    server, api, expected = openf1
    with transaction(before_singapore) as session:  # Colapinto's races of 2024 forgotten
        colapinto = session.scalar(select(Driver.id).where(Driver.ref == "colapinto"))
        for table in (QualifyingResult, RaceResult):
            session.execute(delete(table).where(table.driver_id == colapinto))
    ingest_practice(before_singapore, _client(server), AFTER_FP3)
    assert _stored(before_singapore) == expected  # known by name, in Albon's team (Williams)
    with transaction(before_singapore) as session:
        teams = set(session.scalars(
            select(Team.ref).join(PracticeResult, PracticeResult.team_id == Team.id)
            .where(PracticeResult.driver_id == colapinto)
        ))  # fmt: skip
    assert teams == {"williams"}


def test_a_driver_known_nowhere_is_left_out_and_many_refuse_the_weekend(
    before_singapore, openf1, caplog: pytest.LogCaptureFixture
) -> None:
    server, api, expected = openf1
    for record in (*api.results[9602][:1], *api.drivers[9602][:1]):
        record["driver_number"] = 99  # nobody we know races with 99
    api.drivers[9602][0].update(name_acronym="NOB", last_name="BODY", full_name="NO BODY")
    left_out = next(
        k for k in expected if k[0] == 2 and expected[k][0] == api.results[9602][0]["position"]
    )
    ingest_practice(before_singapore, _client(server), AFTER_FP3)
    assert _stored(before_singapore) == {k: v for k, v in expected.items() if k != left_out}
    assert "#99 NO BODY" in caplog.text and "left out of FP2" in caplog.text
    # three unknown in one session is a broken contract: nothing of the weekend is written
    with transaction(before_singapore) as session:
        session.execute(delete(PracticeResult))
    for result, driver in zip(api.results[9603][:3], api.drivers[9603][:3], strict=True):
        result["driver_number"] = driver["driver_number"] = 90 + result["position"]
        driver.update(name_acronym="XXX", last_name=f"X{result['position']}")
    with pytest.raises(ApiDataError, match=r"3 in one session.*nothing of the weekend"):
        ingest_practice(before_singapore, _client(server), AFTER_FP3)
    assert _stored(before_singapore) == {}


def test_429_and_5xx_are_ridden_out_to_the_same_rows(before_singapore, openf1) -> None:
    server, _, expected = openf1
    server.faults += [Fault("429", "session_result", retry_after="0"), Fault("500", "drivers"),
                      Fault("500", "sessions")]  # fmt: skip
    ingest_practice(before_singapore, _client(server), AFTER_FP3)
    assert _stored(before_singapore) == expected
    assert not server.faults  # every fault was met
