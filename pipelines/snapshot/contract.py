"""The data contract of the Ergast-layout CSV snapshot: every file, column, type and key.

A row that breaks it stops the load with `file:line:field` (see `reader.py`). Column names are
Ergast's; `name` is the warehouse column; `refers` names the file whose id the value must be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.values import clock, date, integer, number, text

NULL = "\\N"

Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Field:
    """One CSV column: its parser, whether it may be null, and what it refers to."""

    column: str
    name: str
    parse: Parser
    nullable: bool = False
    refers: str | None = None


@dataclass(frozen=True)
class FileSpec:
    """One CSV file of the snapshot and the warehouse table it fills."""

    file: str
    table: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # CSV columns that must be unique within the file
    id_column: str | None = None  # the file's own id, referred to by other files
    optional: bool = False  # a snapshot without the file loads none of its rows


def _f(column: str, name: str, parse: Parser, **kw: Any) -> Field:
    return Field(column, name, parse, **kw)


_CLASSIFICATION = (
    _f("raceId", "race_id", integer, refers="races.csv"),
    _f("driverId", "driver_id", integer, refers="drivers.csv"),
    _f("constructorId", "team_id", integer, refers="constructors.csv"),
    _f("number", "number", integer, nullable=True),
    _f("grid", "grid", integer),
    _f("position", "position", integer, nullable=True),
    _f("positionText", "position_text", text),
    _f("positionOrder", "position_order", integer),
    _f("points", "points", number),
    _f("laps", "laps", integer),
    _f("time", "time_text", text, nullable=True),
    _f("milliseconds", "milliseconds", integer, nullable=True),
    _f("fastestLap", "fastest_lap", integer, nullable=True),
)
_STATUS = _f("statusId", "status", integer, refers="status.csv")
_SESSIONS = tuple(
    _f(f"{s}_{part}", f"{s}_{part}", date if part == "date" else clock, nullable=True)
    for s in ("fp1", "fp2", "fp3", "quali", "sprint")
    for part in ("date", "time")
)

CIRCUITS = FileSpec(
    "circuits.csv",
    "circuits",
    (
        _f("circuitRef", "ref", text),
        _f("name", "name", text),
        _f("location", "locality", text, nullable=True),
        _f("country", "country", text, nullable=True),
        _f("lat", "lat", number, nullable=True),
        _f("lng", "lng", number, nullable=True),
        _f("alt", "alt", number, nullable=True),
        _f("url", "url", text, nullable=True),
    ),
    key=("circuitRef",),
    id_column="circuitId",
)
TEAMS = FileSpec(
    "constructors.csv",
    "teams",
    (
        _f("constructorRef", "ref", text),
        _f("name", "name", text),
        _f("nationality", "nationality", text, nullable=True),
        _f("url", "url", text, nullable=True),
    ),
    key=("constructorRef",),
    id_column="constructorId",
)
DRIVERS = FileSpec(
    "drivers.csv",
    "drivers",
    (
        _f("driverRef", "ref", text),
        _f("number", "number", integer, nullable=True),
        _f("code", "code", text, nullable=True),
        _f("forename", "forename", text),
        _f("surname", "surname", text),
        _f("dob", "dob", date, nullable=True),
        _f("nationality", "nationality", text, nullable=True),
        _f("url", "url", text, nullable=True),
    ),
    key=("driverRef",),
    id_column="driverId",
)
STATUS = FileSpec(
    "status.csv", "", (_f("status", "status", text),), key=("status",), id_column="statusId"
)
RACES = FileSpec(
    "races.csv",
    "races",
    (
        _f("year", "season", integer),
        _f("round", "round", integer),
        _f("circuitId", "circuit_id", integer, refers="circuits.csv"),
        _f("name", "name", text),
        _f("date", "date", date),
        _f("time", "time", clock, nullable=True),
        _f("url", "url", text, nullable=True),
        *_SESSIONS,
    ),
    key=("year", "round"),
    id_column="raceId",
)
RESULTS = FileSpec(
    "results.csv",
    "race_results",
    (
        *_CLASSIFICATION,
        _f("rank", "fastest_lap_rank", integer, nullable=True),
        _f("fastestLapTime", "fastest_lap_time", text, nullable=True),
        _f("fastestLapSpeed", "fastest_lap_speed", number, nullable=True),
        _STATUS,
    ),
    key=("raceId", "positionOrder"),
)
SPRINTS = FileSpec(
    "sprint_results.csv",
    "sprint_results",
    (*_CLASSIFICATION, _f("fastestLapTime", "fastest_lap_time", text, nullable=True), _STATUS),
    key=("raceId", "positionOrder"),
)
QUALIFYING = FileSpec(
    "qualifying.csv",
    "qualifying_results",
    (
        _f("raceId", "race_id", integer, refers="races.csv"),
        _f("driverId", "driver_id", integer, refers="drivers.csv"),
        _f("constructorId", "team_id", integer, refers="constructors.csv"),
        _f("number", "number", integer, nullable=True),
        _f("position", "position", integer),
        _f("q1", "q1", text, nullable=True),
        _f("q2", "q2", text, nullable=True),
        _f("q3", "q3", text, nullable=True),
    ),
    key=("raceId", "driverId"),
)

# Free practice, FP1–FP4 (F1DB; 1988 on): the Jolpica API serves none. A snapshot without the
# file (an Ergast dump) loads the rest.
PRACTICE = FileSpec(
    "practice_results.csv",
    "practice_results",
    (
        _f("raceId", "race_id", integer, refers="races.csv"),
        _f("session", "session", integer),
        _f("driverId", "driver_id", integer, refers="drivers.csv"),
        _f("constructorId", "team_id", integer, refers="constructors.csv"),
        _f("number", "number", integer, nullable=True),
        _f("position", "position", integer),
        _f("time", "time_text", text, nullable=True),
        _f("milliseconds", "milliseconds", integer, nullable=True),
        _f("laps", "laps", integer, nullable=True),
    ),
    key=("raceId", "session", "driverId"),
    optional=True,
)


def _standings(file: str, table: str, column: str, name: str, refers: str) -> FileSpec:
    return FileSpec(
        file,
        table,
        (
            _f("raceId", "race_id", integer, refers="races.csv"),
            _f(column, name, integer, refers=refers),
            _f("points", "points", number),
            _f("position", "position", integer, nullable=True),
            _f("positionText", "position_text", text),
            _f("wins", "wins", integer),
        ),
        key=("raceId", column),
    )


DRIVER_STANDINGS = _standings(
    "driver_standings.csv", "driver_standings", "driverId", "driver_id", "drivers.csv"
)
CONSTRUCTOR_STANDINGS = _standings(
    "constructor_standings.csv",
    "constructor_standings",
    "constructorId",
    "team_id",
    "constructors.csv",
)
PIT_STOPS = FileSpec(
    "pit_stops.csv",
    "pit_stops",
    (
        _f("raceId", "race_id", integer, refers="races.csv"),
        _f("driverId", "driver_id", integer, refers="drivers.csv"),
        _f("stop", "stop", integer),
        _f("lap", "lap", integer),
        _f("time", "time_of_day", clock, nullable=True),
        _f("duration", "duration", text, nullable=True),
        _f("milliseconds", "milliseconds", integer, nullable=True),
    ),
    key=("raceId", "driverId", "stop"),
)

# Ergast's lap_times.csv (1996 on); F1DB's export, the bundled history, has none.
LAP_TIMES = FileSpec(
    "lap_times.csv",
    "lap_times",
    (
        _f("raceId", "race_id", integer, refers="races.csv"),
        _f("driverId", "driver_id", integer, refers="drivers.csv"),
        _f("lap", "lap", integer),
        _f("position", "position", integer, nullable=True),
        _f("milliseconds", "milliseconds", integer, nullable=True),
    ),
    key=("raceId", "driverId", "lap"),
    optional=True,
)

# Ours, not F1DB's: renamed teams that continue an entry (see data/f1/SOURCE.md). By refs, so
# a rename may be declared before the team's first race is loaded.
TEAM_LINEAGE = FileSpec(
    "team_lineage.csv",
    "team_lineage",
    (
        _f("constructorRef", "team_ref", text),
        _f("fromSeason", "from_season", integer),
        _f("predecessorRef", "predecessor_ref", text),
    ),
    key=("constructorRef", "fromSeason"),
    optional=True,
)

# Read in this order: every file's references point to files read before it.
ENTITIES = (CIRCUITS, TEAMS, DRIVERS, STATUS, RACES)
FACTS = (
    RESULTS,
    SPRINTS,
    QUALIFYING,
    PRACTICE,
    DRIVER_STANDINGS,
    CONSTRUCTOR_STANDINGS,
    PIT_STOPS,
    LAP_TIMES,
    TEAM_LINEAGE,
)
FILES = ENTITIES + FACTS
