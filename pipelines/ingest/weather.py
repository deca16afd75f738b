"""Race-time weather from Open-Meteo: the archive for past races, the forecast for the next.

The window is the race's first three hours, from its start in local time (Open-Meteo answers
in the circuit's time zone with `timezone=auto`); a race without a known start time is taken
to start at 14:00 local. Condition: `dry` when no hour has ≥ 0.1 mm of rain, `wet` when every
hour has, else `mixed`. When Open-Meteo has no values for the window, no row is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from sqlalchemy import Engine, Table, select

from pipelines.ingest.http import ApiError, JsonClient, RateLimiter, RetryPolicy
from pipelines.ingest.settings import IngestSettings
from warehouse.db import transaction
from warehouse.schema import Circuit, Race, WeatherData
from warehouse.upsert import UpsertCounts, upsert

log = logging.getLogger(__name__)

HOURLY = ("temperature_2m", "precipitation", "wind_speed_10m", "relative_humidity_2m")
WINDOW_HOURS = 3
DEFAULT_START = dt.time(14, 0)
WET_MM = 0.1
ARCHIVE_DELAY = dt.timedelta(days=5)  # the archive lags real time by about five days
FORECAST_HORIZON = dt.timedelta(days=16)


@dataclass(frozen=True)
class OpenMeteo:
    """The archive and forecast endpoints (same query, same answer format)."""

    archive: JsonClient
    forecast: JsonClient

    @classmethod
    def from_settings(cls, settings: IngestSettings | None = None) -> OpenMeteo:
        """Clients for the configured base URLs."""
        s = settings or IngestSettings()
        policy = RetryPolicy(attempts=s.retry_attempts, backoff_s=s.retry_backoff_s)

        def client(url: str) -> JsonClient:
            return JsonClient(
                url,
                limiter=RateLimiter(s.open_meteo_per_second),
                policy=policy,
                timeout_s=s.timeout_s,
            )

        return cls(client(s.open_meteo_archive_url), client(s.open_meteo_forecast_url))

    def hourly(self, source: str, lat: float, lng: float, day: dt.date) -> dict[str, Any]:
        """The hourly answer for one day at one place."""
        client = self.archive if source == "archive" else self.forecast
        return client.get_json(
            "",
            {
                "latitude": lat,
                "longitude": lng,
                "start_date": day.isoformat(),
                "end_date": day.isoformat(),
                "hourly": ",".join(HOURLY),
                "timezone": "auto",
            },
        )


def summarise(
    answer: dict[str, Any],
    start_utc: dt.datetime | None,
    day: dt.date,
) -> dict[str, Any] | None:
    """The race window's weather, or None when Open-Meteo has no values for it."""
    hourly = answer.get("hourly")
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        raise ApiError("Open-Meteo answer has no hourly.time list")
    offset = dt.timedelta(seconds=int(answer.get("utc_offset_seconds", 0)))
    start = (
        (start_utc + offset).replace(tzinfo=None)
        if start_utc
        else dt.datetime.combine(day, DEFAULT_START)
    )
    first = start.replace(minute=0, second=0, microsecond=0)
    wanted = {
        (first + dt.timedelta(hours=h)).isoformat(timespec="minutes") for h in range(WINDOW_HOURS)
    }
    rows = [i for i, t in enumerate(hourly["time"]) if t in wanted]

    def values(name: str) -> list[float]:
        series = hourly.get(name) or []
        return [float(series[i]) for i in rows if i < len(series) and series[i] is not None]

    temperature, rain, wind, humidity = (values(name) for name in HOURLY)
    if not (temperature or rain or wind or humidity):
        return None
    wet_hours = sum(1 for mm in rain if mm >= WET_MM)
    condition = "dry" if wet_hours == 0 else "wet" if wet_hours == len(rain) else "mixed"
    return {
        "air_temperature_c": round(fmean(temperature), 2) if temperature else None,
        "precipitation_mm": round(sum(rain), 2) if rain else None,
        "wind_speed_kmh": round(fmean(wind), 2) if wind else None,
        "humidity_pct": round(fmean(humidity), 2) if humidity else None,
        "condition": condition,
    }


@dataclass(frozen=True)
class WeatherReport:
    """Races asked about, rows written, races left without weather."""

    season: int
    asked: int
    counts: UpsertCounts
    without: list[int]


def ingest_weather(
    engine: Engine,
    meteo: OpenMeteo,
    season: int,
    as_of: dt.date,
    progress: Callable[[str, int, int], None] | None = None,
    only_missing: bool = False,
) -> WeatherReport:
    """Weather for the season's races run by `as_of` (archive) or due soon (forecast).

    With `only_missing`, races whose stored weather already comes from the archive (final)
    are not asked again.
    """
    with transaction(engine) as session:
        races = session.execute(
            select(Race.id, Race.round, Race.date, Race.time, Circuit.lat, Circuit.lng)
            .join(Circuit)
            .where(Race.season == season)
            .order_by(Race.round)
        ).all()
        final = set(
            session.scalars(select(WeatherData.race_id).where(WeatherData.source == "archive"))
        )
    skip = final if only_missing else set()
    rows, without = [], []
    due = [
        r
        for r in races
        if r.date <= as_of + FORECAST_HORIZON and r.lat is not None and r.id not in skip
    ]
    for done, race in enumerate(due, start=1):
        source = "archive" if race.date <= as_of - ARCHIVE_DELAY else "forecast"
        start = dt.datetime.combine(race.date, race.time) if race.time else None
        answer = meteo.hourly(source, race.lat, race.lng, race.date)
        weather = summarise(answer, start, race.date)
        if weather is None:
            without.append(race.round)
        else:
            rows.append({"race_id": race.id, **weather, "source": source})
        if progress:
            progress("weather", done, len(due))
    table: Table = WeatherData.__table__  # type: ignore[assignment]
    with transaction(engine) as session:
        counts = upsert(
            session,
            table,
            rows,
            ("race_id",),
            scope=table.c.race_id.in_([r.id for r in races]),
            stamp={"fetched_at": dt.datetime.now(dt.UTC)},
        )
    if without:
        log.info("season %d: no weather values for rounds %s (left without)", season, without)
    return WeatherReport(season, len(due), counts, without)
