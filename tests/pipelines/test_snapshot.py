"""The bundled history loads completely and correctly, once, and bad input changes nothing."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from pipelines.snapshot import BUNDLED, SnapshotError, load_snapshot
from warehouse.db import transaction
from warehouse.schema import Driver, PracticeResult, Race, RaceResult
from warehouse.status import warehouse_status

CSV_OF_TABLE = {
    "circuits": "circuits.csv",
    "teams": "constructors.csv",
    "drivers": "drivers.csv",
    "races": "races.csv",
    "race_results": "results.csv",
    "sprint_results": "sprint_results.csv",
    "qualifying_results": "qualifying.csv",
    "driver_standings": "driver_standings.csv",
    "constructor_standings": "constructor_standings.csv",
    "pit_stops": "pit_stops.csv",
    "team_lineage": "team_lineage.csv",
    "practice_results": "practice_results.csv",
}


def _csv_rows(directory: Path, name: str) -> int:
    with (directory / name).open() as handle:
        return sum(1 for _ in handle) - 1


def _counts(engine) -> dict[str, int]:
    with transaction(engine) as session:
        return warehouse_status(session)["tables"]


def _winner(engine, season: int, round_: int) -> str:
    with transaction(engine) as session:
        return session.scalar(
            select(Driver.ref)
            .join(RaceResult, RaceResult.driver_id == Driver.id)
            .join(Race, Race.id == RaceResult.race_id)
            .where(Race.season == season, Race.round == round_, RaceResult.position == 1)
        )


def test_every_file_lands_row_for_row(history) -> None:
    counts = _counts(history)
    assert counts["races"] == 1125
    assert counts["race_results"] == 26811
    for table, file in CSV_OF_TABLE.items():
        assert counts[table] == _csv_rows(BUNDLED, file), table


def test_known_races_and_seasons(history) -> None:
    with transaction(history) as session:
        brazil_2008 = session.scalar(
            select(Race.round).where(Race.season == 2008, Race.name == "Brazilian Grand Prix")
        )
        abu_dhabi_2021 = session.scalar(
            select(Race.round).where(Race.season == 2021, Race.name == "Abu Dhabi Grand Prix")
        )
        wins_2023 = session.execute(
            select(Driver.ref, func.count())
            .join(RaceResult, RaceResult.driver_id == Driver.id)
            .join(Race, Race.id == RaceResult.race_id)
            .where(Race.season == 2023, RaceResult.position == 1)
            .group_by(Driver.ref)
            .order_by(func.count().desc())
        ).first()
        status = warehouse_status(session)
    assert _winner(history, 2008, brazil_2008) == "massa"
    assert _winner(history, 2021, abu_dhabi_2021) == "max_verstappen"
    assert tuple(wins_2023) == ("max_verstappen", 19)
    assert status["last_race"] == {"season": 2024, "round": 24, "name": "Abu Dhabi Grand Prix"}


def test_values_nulls_and_shared_drives_survive(history) -> None:
    with transaction(history) as session:
        # 1950 British GP, row 1 of results.csv: Farina won from pole in 2:13:23.600.
        farina = session.execute(
            select(RaceResult)
            .join(Race, Race.id == RaceResult.race_id)
            .where(Race.season == 1950, Race.round == 1, RaceResult.position_order == 1)
        ).scalar_one()
        retirements = session.execute(
            select(RaceResult.position, RaceResult.status).where(RaceResult.position_text == "R")
        ).all()
        shared = session.execute(
            text(
                "SELECT count(*) FROM (SELECT race_id, driver_id FROM race_results "
                "GROUP BY race_id, driver_id HAVING count(*) > 1) AS pairs"
            )
        ).scalar_one()
    assert (farina.grid, farina.points, farina.laps, farina.time_text, farina.milliseconds) == (
        1,
        9.0,
        70,
        "2:13:23.600",
        8003600,
    )
    assert retirements and all(pos is None and status for pos, status in retirements)
    assert "Finished" not in {status for _, status in retirements}
    assert shared == 89  # the real shared drives of 1950–78, kept as two rows each


def test_practice_sessions_land_with_their_laps(history) -> None:
    """Free practice (FP1–FP4, practice_results.csv): 2024 Abu Dhabi's three sessions and 1988
    Brazil's two (laps unknown before 2006), and the sessions without a time."""
    with transaction(history) as session:
        fastest = session.execute(
            select(Race.season, PracticeResult.session, Driver.ref, PracticeResult.time_text,
                   PracticeResult.milliseconds, PracticeResult.laps)
            .join(Race, Race.id == PracticeResult.race_id)
            .join(Driver, Driver.id == PracticeResult.driver_id)
            .where(PracticeResult.position == 1,
                   ((Race.season == 2024) & (Race.round == 24))
                   | ((Race.season == 1988) & (Race.round == 1)))
            .order_by(Race.season, PracticeResult.session)
        ).all()  # fmt: skip
        untimed = session.scalar(select(func.count()).where(PracticeResult.milliseconds.is_(None)))
    assert [tuple(row) for row in fastest] == [
        (1988, 1, "prost", "1:31.234", 91234, None),
        (1988, 2, "senna", "1:29.521", 89521, None),
        (2024, 1, "leclerc", "1:24.321", 84321, 19),
        (2024, 2, "norris", "1:23.517", 83517, 25),
        (2024, 3, "piastri", "1:23.433", 83433, 16),
    ]
    assert untimed == 724


def test_second_load_changes_nothing(history) -> None:
    report = load_snapshot(history)
    assert report.total.changed == 0
    assert report.total.unchanged == sum(_csv_rows(BUNDLED, f) for f in CSV_OF_TABLE.values())


def _copy_of_history(tmp_path: Path) -> Path:
    directory = tmp_path / "snapshot"
    shutil.copytree(BUNDLED, directory)
    return directory


def _edit(directory: Path, file: str, line: int, column: str, value: str) -> None:
    """Set `column` of the row on physical `line` (the header is line 1)."""
    path = directory / file
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_a_changed_value_is_updated_in_place(migrated, tmp_path: Path) -> None:
    directory = _copy_of_history(tmp_path)
    load_snapshot(migrated, directory)
    _edit(directory, "drivers.csv", 2, "nationality", "Italian (corrected)")
    report = load_snapshot(migrated, directory)
    assert report.tables["drivers"].updated == 1
    assert report.total.changed == 1
    with transaction(migrated) as session:
        assert session.scalar(select(Driver.nationality).where(Driver.ref == "farina")) == (
            "Italian (corrected)"
        )


CORRUPTIONS = [
    # (file, line, column, bad value, expected field in the message, words in the message)
    ("results.csv", 3, "driverId", "99999", "driverId", "unknown id 99999 (not in drivers.csv)"),
    ("results.csv", 40, "grid", "pole", "grid", "'pole' is not a whole number"),
    ("races.csv", 7, "date", "1950-13-45", "date", "is not a date"),
    ("results.csv", 5, "positionOrder", "1", None, "duplicate key (raceId=1, positionOrder=1)"),
    ("qualifying.csv", 9, "position", "\\N", "position", "is required"),
    ("pit_stops.csv", 100, "raceId", "123456", "raceId", "not in races.csv"),
]


@pytest.mark.parametrize(("file", "line", "column", "value", "field", "words"), CORRUPTIONS)
def test_a_corrupted_row_stops_the_load_naming_it_and_nothing_changes(
    history,
    tmp_path: Path,
    file: str,
    line: int,
    column: str,
    value: str,
    field: str | None,
    words: str,
) -> None:
    directory = _copy_of_history(tmp_path)
    _edit(directory, "drivers.csv", 2, "nationality", "changed, but must not land")
    _edit(directory, file, line, column, value)
    before = _counts(history)

    with pytest.raises(SnapshotError) as caught:
        load_snapshot(history, directory)

    error = caught.value
    assert (error.file, error.line, error.field) == (file, line, field)
    assert str(error).startswith(f"{file}:{line}" + (f":{field}:" if field else ":"))
    assert words in str(error)
    assert _counts(history) == before
    with transaction(history) as session:
        assert session.scalar(select(Driver.nationality).where(Driver.ref == "farina")) == "Italian"


def test_a_missing_column_is_named(history, tmp_path: Path) -> None:
    directory = _copy_of_history(tmp_path)
    path = directory / "results.csv"
    path.write_text(path.read_text().replace(",grid,", ",grd,", 1))
    with pytest.raises(SnapshotError, match=r"^results\.csv:1: header lacks column\(s\) grid$"):
        load_snapshot(history, directory)


def test_a_database_failure_mid_load_leaves_the_warehouse_as_it_was(migrated, backend) -> None:
    # Make the database itself refuse the last table written, after all others were sent.
    with migrated.begin() as connection:
        if backend == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON pit_stops "
                    "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by test'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON pit_stops "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    with pytest.raises(Exception, match="refused by test"):
        load_snapshot(migrated)
    assert set(_counts(migrated).values()) == {0}


def test_progress_is_reported_for_reading_and_writing(migrated) -> None:
    seen: dict[str, tuple[int, int]] = {}
    load_snapshot(
        migrated, BUNDLED, lambda stage, done, total: seen.__setitem__(stage, (done, total))
    )
    rows = sum(_csv_rows(BUNDLED, f) for f in CSV_OF_TABLE.values())
    # the bundle's 14 files (lap_times.csv absent: 0 rows)
    assert seen == {"read": (14, 14), "write": (rows, rows)}
