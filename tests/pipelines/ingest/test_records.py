"""Real recorded Jolpica answers parse into warehouse rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.ingest.jolpica import _unwrap
from pipelines.ingest.records import (
    RESULT,
    SPRINT_RESULT,
    ApiDataError,
    EntityBook,
    classification_rows,
    qualifying_rows,
    race_row,
    standing_rows,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jolpica"


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_a_results_page_that_cuts_a_race() -> None:
    total, races = _unwrap(_load("2023_results.json"), "RaceTable", "Races", "x")
    assert total == 440 and [len(r["Results"]) for r in races] == [20, 10]
    book = EntityBook()
    rows = classification_rows(races[0], "Results", RESULT, book, "2023/results.json")
    winner = rows[0]
    assert (
        winner["driver_ref"],
        winner["team_ref"],
        winner["position"],
        winner["points"],
        winner["milliseconds"],
        winner["fastest_lap_rank"],
    ) == ("max_verstappen", "red_bull", 1, 25.0, 5636736, 6)
    retired = [r for r in rows if r["position"] is None]
    assert retired and all(r["position_text"] == "R" and r["status"] for r in retired)
    race = race_row(races[0], book, "2023/results.json", sessions=False)
    assert (race["season"], race["round"], race["name"], race["circuit_ref"]) == (
        2023,
        1,
        "Bahrain Grand Prix",
        "bahrain",
    )
    assert book.drivers["max_verstappen"]["dob"].isoformat() == "1997-09-30"


def test_sprint_qualifying_is_read_under_both_its_names() -> None:
    """Jolpica calls it `SprintQualifying` (2024 on) and `SprintShootout` (2023)."""
    _, races = _unwrap(_load("2023.json"), "RaceTable", "Races", "x")
    book = EntityBook()
    for key in ("SprintShootout", "SprintQualifying"):
        race = {**races[3], key: {"date": "2023-04-29", "time": "08:30:00Z"}}
        row = race_row(race, book, "2023.json", sessions=True)
        assert (row["sprint_quali_date"].isoformat(), str(row["sprint_quali_time"])) == (
            "2023-04-29",
            "08:30:00",
        )
    assert race_row(races[0], book, "2023.json", sessions=True)["sprint_quali_date"] is None


def test_schedule_sprints_qualifying_and_standings() -> None:
    _, races = _unwrap(_load("2023.json"), "RaceTable", "Races", "x")
    book = EntityBook()
    first = race_row(races[0], book, "2023.json", sessions=True)
    assert first["quali_date"].isoformat() == "2023-03-04" and first["sprint_date"] is None
    assert str(first["time"]) == "15:00:00"

    _, sprints = _unwrap(_load("2023_sprint.json"), "RaceTable", "Races", "x")
    rows = classification_rows(sprints[0], "SprintResults", SPRINT_RESULT, book, "s")
    assert rows[0]["driver_ref"] == "perez" and rows[0]["points"] == 8.0

    _, quali = _unwrap(_load("2023_13_qualifying.json"), "RaceTable", "Races", "x")
    q = qualifying_rows(quali[0], book, "q")
    assert (q[0]["driver_ref"], q[0]["q3"]) == ("max_verstappen", "1:10.567")

    _, lists = _unwrap(
        _load("2023_22_driverstandings.json"), "StandingsTable", "StandingsLists", "x"
    )
    table = standing_rows(lists[0]["DriverStandings"], book, "d", drivers=True)
    assert (table[0]["driver_ref"], table[0]["points"], table[0]["wins"]) == (
        "max_verstappen",
        575.0,
        19,
    )


def test_an_unknown_round_is_an_empty_answer_not_an_error() -> None:
    total, races = _unwrap(_load("2023_99_results.json"), "RaceTable", "Races", "x")
    assert (total, races) == (0, [])


def test_a_record_missing_a_required_field_is_named() -> None:
    _, races = _unwrap(_load("2023_results.json"), "RaceTable", "Races", "x")
    del races[0]["Results"][2]["grid"]
    with pytest.raises(
        ApiDataError,
        match=r"^GET 2023/results\.json: Results\[2\] \(driver "
        r"alonso\): field 'grid' is missing$",
    ):
        classification_rows(races[0], "Results", RESULT, EntityBook(), "2023/results.json")
