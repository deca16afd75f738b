"""A Jolpica/Ergast-compatible F1 API built from Ergast-layout CSV folders (the bundled
history, or a replay's data).

Speaks the documented format: the MRData envelope with string limit/offset/total, limit at
most 100, and result-like lists paged by row so one race can be split across two pages. A
`visible(endpoint, (season, round))` rule can hide what has not happened yet (a replay's
simulated clock); the schedule is always visible.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.ingest.records import SESSION_KEYS
from replay.tables import Table, read_folders

NULL = "\\N"
MAX_LIMIT = 100
Answer = tuple[int, Any]  # status, JSON-able body
Visible = Callable[[str, tuple[int, int]], bool]


def _put(target: dict[str, Any], key: str, value: str) -> None:
    if value != NULL:
        target[key] = value


class ErgastData:
    """The CSV history as Ergast JSON objects."""

    @classmethod
    def read(cls, *folders: Path) -> ErgastData:
        """The folders' tables merged (a later folder overrides an earlier one)."""
        return cls(read_folders(list(folders)))

    def __init__(self, tables: dict[str, Table]) -> None:
        def table_rows(name: str) -> list[dict[str, str]]:
            return tables[name].rows if name in tables else []

        self.drivers: dict[str, dict[str, Any]] = {}
        for r in table_rows("drivers.csv"):
            d: dict[str, Any] = {"driverId": r["driverRef"]}
            _put(d, "permanentNumber", r["number"])
            _put(d, "code", r["code"])
            _put(d, "url", r["url"])
            d.update(givenName=r["forename"], familyName=r["surname"])
            _put(d, "dateOfBirth", r["dob"])
            _put(d, "nationality", r["nationality"])
            self.drivers[r["driverId"]] = d
        self.teams: dict[str, dict[str, Any]] = {}
        for r in table_rows("constructors.csv"):
            t: dict[str, Any] = {"constructorId": r["constructorRef"]}
            _put(t, "url", r["url"])
            t["name"] = r["name"]
            _put(t, "nationality", r["nationality"])
            self.teams[r["constructorId"]] = t
        circuits: dict[str, dict[str, Any]] = {}
        for r in table_rows("circuits.csv"):
            location: dict[str, Any] = {}
            for key, column in (
                ("lat", "lat"),
                ("long", "lng"),
                ("locality", "location"),
                ("country", "country"),
            ):
                _put(location, key, r[column])
            c: dict[str, Any] = {"circuitId": r["circuitRef"]}
            _put(c, "url", r["url"])
            c.update(circuitName=r["name"], Location=location)
            circuits[r["circuitId"]] = c
        self.status = {r["statusId"]: r["status"] for r in table_rows("status.csv")}
        self.races: dict[tuple[int, int], dict[str, Any]] = {}
        self.sessions: dict[tuple[int, int], dict[str, Any]] = {}
        race_key: dict[str, tuple[int, int]] = {}
        for r in table_rows("races.csv"):
            season_round = (int(r["year"]), int(r["round"]))
            race_key[r["raceId"]] = season_round
            race: dict[str, Any] = {"season": r["year"], "round": r["round"]}
            _put(race, "url", r["url"])
            race.update(raceName=r["name"], Circuit=circuits[r["circuitId"]], date=r["date"])
            if r["time"] != NULL:
                race["time"] = r["time"] + "Z"
            self.races[season_round] = race
            sessions: dict[str, Any] = {}
            for name, prefix in SESSION_KEYS:
                if r.get(f"{prefix}_date", NULL) != NULL:
                    sessions[name] = {"date": r[f"{prefix}_date"]}
                    if r[f"{prefix}_time"] != NULL:
                        sessions[name]["time"] = r[f"{prefix}_time"] + "Z"
            self.sessions[season_round] = sessions
        self.rows: dict[str, dict[tuple[int, int], list[dict[str, Any]]]] = {}
        for kind, file, order, build in (
            ("results", "results.csv", "positionOrder", self._result),
            ("sprint", "sprint_results.csv", "positionOrder", self._result),
            ("qualifying", "qualifying.csv", "position", self._qualifying),
            ("driverstandings", "driver_standings.csv", "position", self._driver_standing),
            (
                "constructorstandings",
                "constructor_standings.csv",
                "position",
                self._constructor_standing,
            ),
        ):
            grouped: dict[tuple[int, int], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
            for r in table_rows(file):
                grouped[race_key[r["raceId"]]].append((int(r[order]), build(r)))
            self.rows[kind] = {
                k: [row for _, row in sorted(v, key=lambda p: p[0])] for k, v in grouped.items()
            }
        laps: dict[tuple[int, int], list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        for r in table_rows("lap_times.csv"):  # Ergast's file; F1DB's export has none
            timing: dict[str, Any] = {"driverId": self.drivers[r["driverId"]]["driverId"]}
            _put(timing, "position", r["position"])
            _put(timing, "time", r["time"])
            position = int(r["position"]) if r["position"] != NULL else 999
            laps[race_key[r["raceId"]]].append(
                (int(r["lap"]), position, {"lap": r["lap"], **timing})
            )
        self.rows["laps"] = {
            k: [t for *_, t in sorted(v, key=lambda p: p[:2])] for k, v in laps.items()
        }

    def _result(self, r: dict[str, str]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "number": r["number"],
            "position": r["positionOrder"],
            "positionText": r["positionText"],
            "points": r["points"],
            "Driver": self.drivers[r["driverId"]],
            "Constructor": self.teams[r["constructorId"]],
            "grid": r["grid"],
            "laps": r["laps"],
            "status": self.status[r["statusId"]],
        }
        if r["milliseconds"] != NULL or r["time"] != NULL:
            row["Time"] = {}
            _put(row["Time"], "millis", r["milliseconds"])
            _put(row["Time"], "time", r["time"])
        fastest: dict[str, Any] = {}
        _put(fastest, "rank", r.get("rank", NULL))
        _put(fastest, "lap", r["fastestLap"])
        if r["fastestLapTime"] != NULL:
            fastest["Time"] = {"time": r["fastestLapTime"]}
        if r.get("fastestLapSpeed", NULL) != NULL:
            fastest["AverageSpeed"] = {"units": "kph", "speed": r["fastestLapSpeed"]}
        if fastest:
            row["FastestLap"] = fastest
        return row

    def _qualifying(self, r: dict[str, str]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "number": r["number"],
            "position": r["position"],
            "Driver": self.drivers[r["driverId"]],
            "Constructor": self.teams[r["constructorId"]],
        }
        for key in ("q1", "q2", "q3"):
            _put(row, key.upper(), r[key])
        return row

    def _driver_standing(self, r: dict[str, str]) -> dict[str, Any]:
        return {
            "position": r["position"],
            "positionText": r["positionText"],
            "points": r["points"],
            "wins": r["wins"],
            "Driver": self.drivers[r["driverId"]],
            "Constructors": [],
        }

    def _constructor_standing(self, r: dict[str, str]) -> dict[str, Any]:
        return {
            "position": r["position"],
            "positionText": r["positionText"],
            "points": r["points"],
            "wins": r["wins"],
            "Constructor": self.teams[r["constructorId"]],
        }


ROUTES = re.compile(
    r"^/ergast/f1/(?P<season>\d{4})(?:/(?P<round>\d+))?"
    r"(?:/(?P<kind>races|results|qualifying|sprint|laps|driverstandings|constructorstandings))?"
    r"\.json$",
    re.IGNORECASE,
)


class JolpicaApi:
    """Routes requests to ErgastData the way the real API pages them (hiding what `visible`
    says has not happened yet)."""

    def __init__(self, data: ErgastData, visible: Visible | None = None) -> None:
        self.data = data
        self.visible = visible

    def __call__(self, path: str, query: dict[str, str]) -> Answer:
        match = ROUTES.match(path)
        if not match:
            return 404, {"detail": "Not found."}
        season = int(match["season"])
        round_ = int(match["round"]) if match["round"] else None
        kind = (match["kind"] or "races").lower()
        limit = min(MAX_LIMIT, int(query.get("limit", 30)))
        offset = int(query.get("offset", 0))
        keys = sorted(k for k in self.data.races if k[0] == season and round_ in (None, k[1]))
        envelope: dict[str, Any] = {
            "xmlns": "",
            "series": "f1",
            "url": path,
            "limit": str(limit),
            "offset": str(offset),
        }
        if kind == "races":
            races = [{**self.data.races[k], **self.data.sessions[k]} for k in keys]
            envelope.update(
                total=str(len(races)),
                RaceTable={"season": str(season), "Races": races[offset : offset + limit]},
            )
            return 200, {"MRData": envelope}
        if self.visible is not None:
            keys = [k for k in keys if self.visible(kind, k)]
        flat = [(k, row) for k in keys for row in self.data.rows[kind].get(k, [])]
        page = flat[offset : offset + limit]
        envelope["total"] = str(len(flat))
        if kind.endswith("standings"):
            rows_key = "DriverStandings" if kind == "driverstandings" else "ConstructorStandings"
            lists = [
                {
                    "season": str(k[0]),
                    "round": str(k[1]),
                    rows_key: [r for kk, r in page if kk == k],
                }
                for k in dict.fromkeys(k for k, _ in page)
            ]
            envelope["StandingsTable"] = {
                "season": str(season),
                "round": str(round_),
                "StandingsLists": lists,
            }
            return 200, {"MRData": envelope}
        if kind == "laps":  # the total counts timings; a page's timings grouped by lap
            races = []
            for k in dict.fromkeys(k for k, _ in page):
                numbers: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for kk, t in page:
                    if kk == k:
                        numbers[t["lap"]].append({x: v for x, v in t.items() if x != "lap"})
                laps = [{"number": n, "Timings": ts} for n, ts in numbers.items()]
                races.append({**self.data.races[k], "Laps": laps})
            envelope["RaceTable"] = {"season": str(season), "round": str(round_), "Races": races}
            return 200, {"MRData": envelope}
        rows_key = {
            "results": "Results",
            "qualifying": "QualifyingResults",
            "sprint": "SprintResults",
        }[kind]
        races = [
            {**self.data.races[k], rows_key: [r for kk, r in page if kk == k]}
            for k in dict.fromkeys(k for k, _ in page)
        ]
        table = {"season": str(season), "Races": races}
        if round_ is not None:
            table["round"] = str(round_)
        envelope["RaceTable"] = table
        return 200, {"MRData": envelope}
