"""Client of the Jolpica F1 API (Ergast-compatible JSON: the MRData envelope).

Result-like endpoints page by result row, not by race: one race can be split across two
pages, each repeating the race object with part of its list. Pages are merged by
(season, round) and the merged row count must equal the envelope's `total`.
"""

from __future__ import annotations

from typing import Any

from pipelines.ingest.http import ApiError, JsonClient, RateLimiter, RetryPolicy
from pipelines.ingest.settings import IngestSettings

PAGE = 100  # the API's largest page


class JolpicaClient:
    """The endpoints the warehouse needs, each returning merged Ergast objects."""

    def __init__(self, http: JsonClient) -> None:
        self.http = http

    @classmethod
    def from_settings(
        cls, settings: IngestSettings | None = None, base_url: str | None = None
    ) -> JolpicaClient:
        """A client with the configured base URL, rate limits and retry policy."""
        settings = settings or IngestSettings()
        limiter = RateLimiter(settings.f1_api_per_second, settings.f1_api_per_hour)
        policy = RetryPolicy(attempts=settings.retry_attempts, backoff_s=settings.retry_backoff_s)
        return cls(
            JsonClient(
                base_url or settings.f1_api_base_url,
                limiter=limiter,
                policy=policy,
                timeout_s=settings.timeout_s,
            )
        )

    def schedule(self, season: int) -> list[dict[str, Any]]:
        """Every race of the season with its circuit and session times."""
        return self._pages(f"{season}.json", "RaceTable", "Races")

    def results(self, season: int, round_: int | None = None) -> list[dict[str, Any]]:
        """Races (of the season, or one round) with their merged `Results`."""
        return self._pages(_path(season, round_, "results"), "RaceTable", "Races", "Results")

    def qualifying(self, season: int, round_: int | None = None) -> list[dict[str, Any]]:
        """Races with their merged `QualifyingResults`."""
        return self._pages(
            _path(season, round_, "qualifying"), "RaceTable", "Races", "QualifyingResults"
        )

    def sprint(self, season: int, round_: int | None = None) -> list[dict[str, Any]]:
        """Races with their merged `SprintResults`."""
        return self._pages(_path(season, round_, "sprint"), "RaceTable", "Races", "SprintResults")

    def laps(self, season: int, round_: int) -> list[dict[str, Any]]:
        """Every driver's laps of a round: `{"lap", "driverId", "position", "time"}` rows.
        The API's total counts timings (a lap per driver), about 1,100 for a race: 12 pages."""
        path = _path(season, round_, "laps")
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            endpoint = f"{path}?limit={PAGE}&offset={offset}"
            envelope = self.http.get_json(path, {"limit": PAGE, "offset": offset})
            total, races = _unwrap(envelope, "RaceTable", "Races", endpoint)
            for race in races:
                laps = race.get("Laps")
                if not isinstance(laps, list):
                    raise ApiError(f"GET {endpoint}: Races entry has no list 'Laps'")
                for lap in laps:
                    for timing in lap.get("Timings") or []:
                        rows.append({"lap": lap.get("number"), **timing})
            offset += PAGE
            if offset >= total:
                break
        if len(rows) != total:
            raise ApiError(
                f"GET {path}: pages held {len(rows)} laps but the API's total is {total}"
            )
        return rows

    def published(self, season: int, round_: int, endpoint: str) -> bool:
        """Whether the API has any row of `endpoint` (results, qualifying, sprint) for the
        round yet: one request for a one-row page."""
        path = _path(season, round_, endpoint)
        envelope = self.http.get_json(path, {"limit": 1, "offset": 0})
        total, _ = _unwrap(envelope, "RaceTable", "Races", f"{path}?limit=1")
        return total > 0

    def driver_standings(self, season: int, round_: int) -> list[dict[str, Any]]:
        """The drivers' table after `round_`."""
        return self._standings(season, round_, "driverstandings", "DriverStandings")

    def constructor_standings(self, season: int, round_: int) -> list[dict[str, Any]]:
        """The constructors' table after `round_`."""
        return self._standings(season, round_, "constructorstandings", "ConstructorStandings")

    def _standings(self, season: int, round_: int, name: str, rows: str) -> list[dict[str, Any]]:
        lists = self._pages(_path(season, round_, name), "StandingsTable", "StandingsLists", rows)
        return [row for standings in lists for row in standings[rows]]

    def _pages(
        self, path: str, table: str, items: str, rows: str | None = None
    ) -> list[dict[str, Any]]:
        """Fetch every page of `path` and merge them; `rows` names the list the limit counts."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        plain: list[dict[str, Any]] = []
        offset, counted = 0, 0
        while True:
            endpoint = f"{path}?limit={PAGE}&offset={offset}"
            envelope = self.http.get_json(path, {"limit": PAGE, "offset": offset})
            total, page = _unwrap(envelope, table, items, endpoint)
            for item in page:
                if rows is None:
                    plain.append(item)
                    counted += 1
                    continue
                part = item.get(rows)
                if not isinstance(part, list):
                    raise ApiError(f"GET {endpoint}: {items} entry has no list {rows!r}")
                key = (str(item.get("season")), str(item.get("round")))
                merged.setdefault(key, {**item, rows: []})[rows].extend(part)
                counted += len(part)
            offset += PAGE
            if offset >= total:
                break
        if counted != total:
            raise ApiError(f"GET {path}: pages held {counted} rows but the API's total is {total}")
        return plain if rows is None else list(merged.values())


def _path(season: int, round_: int | None, name: str) -> str:
    return f"{season}/{name}.json" if round_ is None else f"{season}/{round_}/{name}.json"


def _unwrap(body: Any, table: str, items: str, endpoint: str) -> tuple[int, list[dict[str, Any]]]:
    """Check the MRData envelope; (total, the page's items)."""
    data = body.get("MRData") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(f"GET {endpoint}: answer has no MRData envelope")
    try:
        total = int(data["total"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(f"GET {endpoint}: MRData.total missing or not a number") from None
    page = (data.get(table) or {}).get(items)
    if not isinstance(page, list):
        raise ApiError(f"GET {endpoint}: answer has no MRData.{table}.{items} list")
    return total, page
