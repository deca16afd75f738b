"""Ergast JSON objects → warehouse rows, checked field by field before anything is written.

A record missing a required field, or with a value of the wrong kind, raises ApiDataError
naming the endpoint, the record and the field. Ids (`driverId`, `constructorId`, `circuitId`)
become `*_ref` keys that the writer resolves to warehouse ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.ingest.http import ApiError
from pipelines.values import clock, date, integer, lap_millis, number, text

Spec = tuple[tuple[str, str, Callable[[str], Any], bool], ...]  # json path, column, parse, required


class ApiDataError(ApiError):
    """A record the API sent breaks our contract; nothing of its round is written."""

    def __init__(self, endpoint: str, record: str, field: str, problem: str) -> None:
        self.endpoint, self.record, self.field = endpoint, record, field
        super().__init__(f"GET {endpoint}: {record}: field {field!r} {problem}")


DRIVER: Spec = (
    ("driverId", "ref", text, True),
    ("permanentNumber", "number", integer, False),
    ("code", "code", text, False),
    ("givenName", "forename", text, True),
    ("familyName", "surname", text, True),
    ("dateOfBirth", "dob", date, False),
    ("nationality", "nationality", text, False),
    ("url", "url", text, False),
)
TEAM: Spec = (
    ("constructorId", "ref", text, True),
    ("name", "name", text, True),
    ("nationality", "nationality", text, False),
    ("url", "url", text, False),
)
CIRCUIT: Spec = (
    ("circuitId", "ref", text, True),
    ("circuitName", "name", text, True),
    ("Location.locality", "locality", text, False),
    ("Location.country", "country", text, False),
    ("Location.lat", "lat", number, False),
    ("Location.long", "lng", number, False),
    ("url", "url", text, False),
)
RACE: Spec = (
    ("season", "season", integer, True),
    ("round", "round", integer, True),
    ("raceName", "name", text, True),
    ("date", "date", date, True),
    ("time", "time", clock, False),
    ("url", "url", text, False),
)
# The schedule's sessions (Jolpica's key) and the race columns holding their date and time.
SESSION_KEYS = (
    ("FirstPractice", "fp1"),
    ("SecondPractice", "fp2"),
    ("ThirdPractice", "fp3"),
    ("Qualifying", "quali"),
    ("Sprint", "sprint"),
    ("SprintQualifying", "sprint_quali"),
)
SESSIONS: Spec = tuple(
    (f"{key}.{part}", f"{column}_{part}", date if part == "date" else clock, False)
    for key, column in SESSION_KEYS
    for part in ("date", "time")
)
SPRINT_RESULT: Spec = (
    ("number", "number", integer, False),
    ("grid", "grid", integer, True),
    ("position", "position_order", integer, True),
    ("positionText", "position_text", text, True),
    ("points", "points", number, True),
    ("laps", "laps", integer, True),
    ("Time.time", "time_text", text, False),
    ("Time.millis", "milliseconds", integer, False),
    ("FastestLap.lap", "fastest_lap", integer, False),
    ("FastestLap.Time.time", "fastest_lap_time", text, False),
    ("status", "status", text, True),
)
RESULT: Spec = (
    *SPRINT_RESULT,
    ("FastestLap.rank", "fastest_lap_rank", integer, False),
    ("FastestLap.AverageSpeed.speed", "fastest_lap_speed", number, False),
)
QUALIFYING: Spec = (
    ("number", "number", integer, False),
    ("position", "position", integer, True),
    ("Q1", "q1", text, False),
    ("Q2", "q2", text, False),
    ("Q3", "q3", text, False),
)
LAP: Spec = (
    ("lap", "lap", integer, True),
    ("position", "position", integer, False),
    ("time", "milliseconds", lap_millis, False),
)
STANDING: Spec = (
    ("position", "position", integer, False),
    ("positionText", "position_text", text, True),
    ("points", "points", number, True),
    ("wins", "wins", integer, True),
)


def parse(obj: Any, spec: Spec, endpoint: str, record: str) -> dict[str, Any]:
    """The columns of `spec` read from `obj`; ApiDataError on a missing or bad value."""
    if not isinstance(obj, dict):
        raise ApiDataError(endpoint, record, "", f"is not an object but {type(obj).__name__}")
    row: dict[str, Any] = {}
    for path, column, parser, required in spec:
        value: Any = obj
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or value == "":
            if required:
                raise ApiDataError(endpoint, record, path, "is missing")
            row[column] = None
            continue
        try:
            row[column] = parser(str(value))
        except ValueError as error:
            raise ApiDataError(endpoint, record, path, str(error)) from None
    return row


class EntityBook:
    """The drivers, teams and circuits met while parsing, by ref (last seen wins)."""

    def __init__(self) -> None:
        self.drivers: dict[str, dict[str, Any]] = {}
        self.teams: dict[str, dict[str, Any]] = {}
        self.circuits: dict[str, dict[str, Any]] = {}

    def driver(self, obj: Any, endpoint: str, record: str) -> str:
        """Record the nested `Driver` of `obj`; its ref."""
        row = parse(_nested(obj, "Driver", endpoint, record), DRIVER, endpoint, record + ".Driver")
        self.drivers[row["ref"]] = row
        return str(row["ref"])

    def team(self, obj: Any, endpoint: str, record: str) -> str:
        """Record the nested `Constructor` of `obj`; its ref."""
        nested = _nested(obj, "Constructor", endpoint, record)
        row = parse(nested, TEAM, endpoint, record + ".Constructor")
        self.teams[row["ref"]] = row
        return str(row["ref"])

    def circuit(self, race: Any, endpoint: str, record: str) -> str:
        """Record the race's `Circuit`; its ref."""
        row = parse(
            _nested(race, "Circuit", endpoint, record), CIRCUIT, endpoint, record + ".Circuit"
        )
        self.circuits[row["ref"]] = row
        return str(row["ref"])


def _nested(obj: Any, key: str, endpoint: str, record: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        raise ApiDataError(endpoint, record, key, "is missing")
    return value


def race_row(race: Any, book: EntityBook, endpoint: str, sessions: bool) -> dict[str, Any]:
    """The race's own columns (and session times when the object is from the schedule)."""
    record = f"race {race.get('season')}/{race.get('round')}" if isinstance(race, dict) else "race"
    if sessions and isinstance(race, dict) and "SprintShootout" in race:
        race = {"SprintQualifying": race["SprintShootout"], **race}  # its 2023 name
    row = parse(race, RACE + SESSIONS if sessions else RACE, endpoint, record)
    row["circuit_ref"] = book.circuit(race, endpoint, record)
    return row


def classification_rows(
    race: dict[str, Any], key: str, spec: Spec, book: EntityBook, endpoint: str
) -> list[dict[str, Any]]:
    """Race or sprint results: one row per car, unique by finishing order."""
    rows = _rows(race, key, spec, book, endpoint, team=True)
    for row in rows:
        text_ = row["position_text"]
        row["position"] = int(text_) if text_.isdigit() else None  # classified finishers only
    _unique(rows, ("position_order",), endpoint, key)
    return rows


def qualifying_rows(race: dict[str, Any], book: EntityBook, endpoint: str) -> list[dict[str, Any]]:
    """Qualifying: one row per driver."""
    rows = _rows(race, "QualifyingResults", QUALIFYING, book, endpoint, team=True)
    _unique(rows, ("driver_ref",), endpoint, "QualifyingResults")
    return rows


def lap_rows(
    timings: list[dict[str, Any]], book: EntityBook, endpoint: str
) -> list[dict[str, Any]]:
    """A race's laps: one row per (driver, lap); every driver must be one the round's results
    named (`book`)."""
    rows = []
    for index, timing in enumerate(timings):
        record = f"Timings[{index}]"
        row = parse(timing, LAP, endpoint, record)
        driver = timing.get("driverId") if isinstance(timing, dict) else None
        if driver not in book.drivers:
            raise ApiDataError(endpoint, record, "driverId", f"{driver!r} is not in the results")
        rows.append({**row, "driver_ref": driver})
    _unique(rows, ("driver_ref", "lap"), endpoint, "Timings")
    return rows


def standing_rows(
    standings: list[dict[str, Any]], book: EntityBook, endpoint: str, drivers: bool
) -> list[dict[str, Any]]:
    """A championship table: one row per driver (or team)."""
    key = "DriverStandings" if drivers else "ConstructorStandings"
    rows = _rows({key: standings}, key, STANDING, book, endpoint, team=not drivers, driver=drivers)
    _unique(rows, ("driver_ref",) if drivers else ("team_ref",), endpoint, key)
    return rows


def _rows(
    race: dict[str, Any],
    key: str,
    spec: Spec,
    book: EntityBook,
    endpoint: str,
    team: bool,
    driver: bool = True,
) -> list[dict[str, Any]]:
    rows = []
    for index, obj in enumerate(race.get(key) or []):
        record = f"{key}[{index}]"
        if isinstance(obj, dict) and isinstance(obj.get("Driver"), dict):
            record += f" (driver {obj['Driver'].get('driverId')})"
        row = parse(obj, spec, endpoint, record)
        if driver:
            row["driver_ref"] = book.driver(obj, endpoint, record)
        if team:
            row["team_ref"] = book.team(obj, endpoint, record)
        rows.append(row)
    return rows


def _unique(rows: list[dict[str, Any]], key: tuple[str, ...], endpoint: str, what: str) -> None:
    seen: set[tuple[Any, ...]] = set()
    for index, row in enumerate(rows):
        value = tuple(row[k] for k in key)
        if value in seen:
            raise ApiDataError(endpoint, f"{what}[{index}]", ",".join(key), f"repeats {value}")
        seen.add(value)
