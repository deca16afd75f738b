"""An OpenF1-compatible API (`/v1/sessions`, `/v1/session_result`, `/v1/drivers`) built from an
Ergast-layout folder's `practice_results.csv`: what a replay's practice ingest talks to.

Speaks OpenF1's format: flat JSON lists, sessions keyed by `session_key`, a practice session's
best lap as `duration` in seconds, drivers by number, acronym and name. Only sessions whose
start the calendar knows are served (their end an hour later). A session's classification is
revealed by a `visible(race_id, start)` rule (a replay's clock); the sessions list always is.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from replay.ergast import NULL
from replay.tables import Table
from warehouse.calendar import Weekend

Answer = tuple[int, Any]
Revealed = Callable[[int, dt.datetime], bool]  # (race id, the session's start) -> visible
SESSION = dt.timedelta(hours=1)


class OpenF1Data:
    """The practice sessions of the weekends, as OpenF1 records."""

    def __init__(self, tables: dict[str, Table], weekends: list[Weekend]) -> None:
        rows = tables["practice_results.csv"].rows if "practice_results.csv" in tables else []
        drivers = {r["driverId"]: r for r in tables["drivers.csv"].rows}
        teams = {r["constructorId"]: r["name"] for r in tables["constructors.csv"].rows}
        by_race = {str(w.race_id): w for w in weekends}
        self.sessions: list[dict[str, Any]] = []
        self.race_of: dict[int, tuple[int, dt.datetime]] = {}
        self.results: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.drivers: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            weekend = by_race.get(row["raceId"])
            start = weekend.start(f"fp{row['session']}") if weekend else None
            if weekend is None or start is None:
                continue  # a session the calendar has no time for is not served
            key = weekend.race_id * 10 + int(row["session"])
            if key not in self.race_of:
                self.race_of[key] = (weekend.race_id, start)
                self.sessions.append({
                    "session_key": key, "meeting_key": weekend.race_id, "year": weekend.season,
                    "session_name": f"Practice {row['session']}", "session_type": "Practice",
                    "date_start": start.isoformat(), "date_end": (start + SESSION).isoformat(),
                    "country_name": weekend.name,
                })  # fmt: skip
            driver, number = drivers[row["driverId"]], int(row["number"])
            ms = None if row["milliseconds"] == NULL else int(row["milliseconds"])
            self.results[key].append({
                "session_key": key, "meeting_key": weekend.race_id, "driver_number": number,
                "position": int(row["position"]), "duration": None if ms is None else ms / 1000,
                "number_of_laps": None if row["laps"] == NULL else int(row["laps"]),
                "dnf": False, "dns": False, "dsq": False,
            })  # fmt: skip
            self.drivers[key].append({
                "session_key": key, "driver_number": number,
                "name_acronym": "" if driver["code"] == NULL else driver["code"],
                "first_name": driver["forename"], "last_name": driver["surname"],
                "full_name": f"{driver['forename']} {driver['surname'].upper()}",
                "team_name": teams.get(row["constructorId"], ""),
            })  # fmt: skip


class OpenF1Api:
    """Routes requests to OpenF1Data, hiding a classification until `revealed` says so."""

    def __init__(self, data: OpenF1Data, revealed: Revealed | None = None) -> None:
        self.data = data
        self.revealed = revealed

    def __call__(self, path: str, query: dict[str, str]) -> Answer:
        if path == "/v1/sessions":
            year = query.get("year")
            return 200, [s for s in self.data.sessions if year is None or str(s["year"]) == year]
        if path not in ("/v1/session_result", "/v1/drivers"):
            return 404, {"detail": "Not Found"}
        try:
            key = int(query["session_key"])
        except (KeyError, ValueError):
            return 422, {"detail": "session_key must be an integer"}
        if path == "/v1/drivers":
            return 200, self.data.drivers.get(key, [])
        race = self.data.race_of.get(key)
        if race is None or (self.revealed is not None and not self.revealed(*race)):
            return 200, []
        return 200, self.data.results[key]
