"""Live ingestion against a local Jolpica-compatible server built from the bundled history."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from pipelines.ingest.live import ingest_new, ingest_qualifying, ingest_round, ingest_season
from pipelines.ingest.records import ApiDataError
from pipelines.snapshot import load_snapshot
from tests.servers.base import Fault, LocalServer
from tests.servers.fixtures import make_client
from tests.snapshots import snapshot_until
from warehouse.db import transaction
from warehouse.schema import Base

# Tables the API path fills, with the natural key of each row (pit stops are not fetched).
TABLES = {
    "race_results": ("season", "round", "position_order"),
    "sprint_results": ("season", "round", "position_order"),
    "qualifying_results": ("season", "round", "driver"),
    "driver_standings": ("season", "round", "driver"),
    "constructor_standings": ("season", "round", "team"),
}


def _season_rows(engine: Engine, season: int) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every row of `season` keyed by natural key, with ids replaced by refs."""
    out: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    with transaction(engine) as session:
        races = (
            session.execute(
                text(
                    "SELECT r.*, c.ref AS circuit FROM races r "
                    "JOIN circuits c ON c.id = r.circuit_id "
                    "WHERE r.season = :s"
                ),
                {"s": season},
            )
            .mappings()
            .all()
        )
        out["races"] = {(r["season"], r["round"]): _plain(r) for r in races}
        for table, key in TABLES.items():
            columns = Base.metadata.tables[table].c
            joins = " LEFT JOIN drivers d ON d.id = t.driver_id" if "driver_id" in columns else ""
            joins += " LEFT JOIN teams tm ON tm.id = t.team_id" if "team_id" in columns else ""
            refs = (", d.ref AS driver" if "driver_id" in columns else "") + (
                ", tm.ref AS team" if "team_id" in columns else ""
            )
            rows = (
                session.execute(
                    text(
                        f"SELECT t.*, r.season, r.round{refs} FROM {table} t "
                        f"JOIN races r ON r.id = t.race_id{joins} WHERE r.season = :s"
                    ),
                    {"s": season},
                )
                .mappings()
                .all()
            )
            out[table] = {tuple(r[k] for k in key): _plain(r) for r in rows}
    return out


def _plain(row: Any) -> dict[str, Any]:
    return {
        k: v
        for k, v in row.items()
        if k not in ("id", "race_id", "driver_id", "team_id", "circuit_id")
    }


def _refs(engine: Engine, table: str) -> list[str]:
    with transaction(engine) as session:
        return list(session.scalars(text(f"SELECT ref FROM {table} ORDER BY ref")))


def _budget(ergast: Any, season: int) -> int:
    """1 schedule + pages of results, qualifying, sprints + 2 standings per round."""
    rounds = [k for k in ergast.races if k[0] == season]
    pages = sum(
        math.ceil(sum(len(ergast.rows[kind].get(k, [])) for k in rounds) / 100)
        for kind in ("results", "qualifying", "sprint")
    )
    return 1 + pages + 2 * len(rounds)


def test_2024_from_the_api_is_identical_to_the_bundled_2024(
    until_2023, history, client, ergast
) -> None:
    report = ingest_season(until_2023, client, 2024)

    assert report.rounds == list(range(1, 25))
    assert _season_rows(until_2023, 2024) == _season_rows(history, 2024)
    # new drivers and teams of 2024 were created once each, known ones not duplicated
    assert set(_refs(until_2023, "drivers")) <= set(_refs(history, "drivers"))
    assert {"bearman", "colapinto"} <= set(_refs(until_2023, "drivers"))
    assert len(_refs(until_2023, "drivers")) == len(set(_refs(until_2023, "drivers")))
    # budget: 1 + 5 + 5 + 2 + 2 × 24 = 61 for 2024 (the floor with 100-row pages)
    assert client.http.stats.requests == _budget(ergast, 2024) == 61
    assert _budget(ergast, 2023) <= 60


def test_a_second_run_changes_nothing(until_2023, client) -> None:
    ingest_season(until_2023, client, 2024)
    assert ingest_season(until_2023, client, 2024).changed == 0


def test_faults_are_ridden_out_to_the_same_state(until_2023, history, jolpica, ergast) -> None:
    jolpica.faults = [
        Fault("429", retry_after="1"),
        Fault("429", retry_after="1"),
        Fault("429", retry_after=None),
        Fault("500", match="results"),
        Fault("500", match="qualifying"),
        Fault("truncate", match="results"),
        Fault("html", match="driverstandings"),
    ]
    client = make_client(jolpica)
    ingest_season(until_2023, client, 2024)

    assert _season_rows(until_2023, 2024) == _season_rows(history, 2024)
    assert dict(client.http.stats.retries) == {"429": 3, "500": 2, "bad json": 1, "html": 1}
    assert client.http.stats.requests == _budget(ergast, 2024) + 7
    assert client.http.stats.backoff_s >= 2.0


def test_a_stored_round_fetched_again_changes_nothing(history, client) -> None:
    report = ingest_round(history, client, 2024, 24)
    assert report.rounds == [24] and report.changed == 0
    assert client.http.stats.requests <= 8


def test_one_new_round_within_budget_and_catching_up_after_weeks(
    migrated, tmp_path: Path, jolpica: LocalServer
) -> None:
    load_snapshot(migrated, snapshot_until(tmp_path / "cut", 2024, 19))
    client = make_client(jolpica)
    # a week after round 20 (2024-10-27): only round 20 is due and missing
    (report,) = ingest_new(migrated, client, dt.date(2024, 10, 28))
    assert report.rounds == [20]
    assert client.http.stats.requests <= 8  # schedule, results, qualifying, sprint, 2 standings
    # weeks later, after the season: rounds 21–24 together
    client = make_client(jolpica)
    (report,) = ingest_new(migrated, client, dt.date(2024, 12, 20))
    assert report.rounds == [21, 22, 23, 24]
    # nothing left: a re-run only reads the schedule
    client = make_client(jolpica)
    (report,) = ingest_new(migrated, client, dt.date(2024, 12, 20))
    assert report.rounds == [] and report.changed == 0 and client.http.stats.requests == 1


def _corrupt_position(body: dict[str, Any]) -> None:
    body["MRData"]["RaceTable"]["Races"][0]["Results"][3]["position"] = "fourth"


def test_a_bad_record_names_endpoint_record_and_field_and_writes_nothing(
    until_2023, jolpica
) -> None:
    jolpica.faults = [Fault("mutate", match="2024/results", mutate=_corrupt_position)]
    with transaction(until_2023) as session:
        before = session.scalar(text("SELECT count(*) FROM race_results"))
    with pytest.raises(ApiDataError) as caught:
        ingest_season(until_2023, make_client(jolpica), 2024)
    message = str(caught.value)
    assert message.startswith("GET 2024/results.json: Results[3] (driver ")
    assert "field 'position' '" in message and "is not a whole number" in message
    with transaction(until_2023) as session:
        assert session.scalar(text("SELECT count(*) FROM race_results")) == before


def test_a_failure_while_writing_leaves_no_partial_round(until_2023, client, backend) -> None:
    round3 = "(SELECT id FROM races WHERE season = 2024 AND round = 3)"
    with until_2023.begin() as connection:
        if backend == "sqlite":
            connection.execute(
                text(
                    f"CREATE TRIGGER refuse BEFORE INSERT ON qualifying_results "
                    f"WHEN NEW.race_id = {round3} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.race_id = {round3} "
                    "THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON qualifying_results "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    with pytest.raises(Exception, match="refused"):
        ingest_season(until_2023, client, 2024)
    with transaction(until_2023) as session:
        counts = dict(
            session.execute(
                text(
                    "SELECT r.round, count(rr.id) FROM races r LEFT JOIN race_results rr "
                    "ON rr.race_id = r.id WHERE r.season = 2024 GROUP BY r.round"
                )
            )
            .tuples()
            .all()
        )
    assert counts[1] == 24 - 4 and counts[2] == 20  # rounds 1–2 complete
    assert counts[3] == 0 and counts[4] == 0  # round 3 not half-written, nothing after it


def test_qualifying_only(until_2023, client) -> None:
    report = ingest_qualifying(until_2023, client, 2024)
    assert report.rounds == list(range(1, 25))
    assert report.tables["qualifying_results"].inserted == 478
    with transaction(until_2023) as session:
        verstappen = session.execute(
            select(text("q3"))
            .select_from(
                text(
                    "qualifying_results q JOIN races r ON r.id = q.race_id JOIN drivers d "
                    "ON d.id = q.driver_id"
                )
            )
            .where(text("r.season = 2024 AND r.round = 1 AND d.ref = 'max_verstappen'"))
        ).scalar_one()
    assert verstappen == "1:29.179"
