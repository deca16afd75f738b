"""Race-time weather from Open-Meteo, each row with the time it was known (`issued_at`).

- `forecast`: the coming races within the forecast horizon, asked at every run; each fetch is
  a new row issued at the run's time, so the features can take the latest one issued before
  a stage's cut-off.
- `archive`: the observation, once the archive has the race (about five days after). It never
  feeds a feature: a model must not learn from the rain that fell while serving sees forecasts.
- `historical_forecast` (asked for with `historical=True`): Open-Meteo's archived forecasts,
  documented from 2022 on. Each hour comes from the first hours of a model run made at most
  6 hours before it, so the row is issued at the race's start − 6 h: a post_quali feature,
  too late for pre_quali (its cut-off is the first practice).

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
from pipelines.weekend import as_moment
from warehouse.calendar import session_start
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
HISTORICAL_SINCE = dt.date(2022, 1, 1)  # the historical forecast API's documented coverage
MODEL_RUN_LEAD = dt.timedelta(hours=6)  # the slowest model update: a value's run is this old
SOURCES = ("forecast", "historical_forecast", "archive")


@dataclass(frozen=True)
class OpenMeteo:
    """The archive, forecast and historical forecast endpoints (same query, same answer)."""

    archive: JsonClient
    forecast: JsonClient
    historical_forecast: JsonClient | None = None

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

        return cls(
            client(s.open_meteo_archive_url),
            client(s.open_meteo_forecast_url),
            client(s.open_meteo_historical_forecast_url),
        )

    @property
    def requests(self) -> int:
        """Requests made so far by every endpoint's client."""
        clients = (self.archive, self.forecast, self.historical_forecast)
        return sum(c.stats.requests for c in clients if c is not None)

    def hourly(self, source: str, lat: float, lng: float, day: dt.date) -> dict[str, Any]:
        """The hourly answer for one day at one place from `source`'s endpoint."""
        client = {
            "archive": self.archive,
            "forecast": self.forecast,
            "historical_forecast": self.historical_forecast,
        }[source]
        if client is None:
            raise ApiError(f"no Open-Meteo endpoint configured for {source}")
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
    """Answers asked for (a race per source), rows written, races left without weather."""

    season: int
    asked: int
    counts: UpsertCounts
    without: list[int]


def _plans(
    race: Any, now: dt.datetime, have: set[tuple[int, str]], only_missing: bool, historical: bool
) -> list[tuple[str, dt.datetime]]:
    """The sources to ask for `race` at `now`, each with the time its answer counts as known."""
    start = session_start(race.date, race.time)
    if start is None or race.lat is None:
        return []
    if now < start <= now + FORECAST_HORIZON:
        return [("forecast", now)]
    window_end = start + dt.timedelta(hours=WINDOW_HOURS)
    if window_end > now - ARCHIVE_DELAY:
        return []  # to come beyond the horizon, or run and not in the archive yet
    plans = []
    if not (only_missing and (race.id, "archive") in have):
        plans.append(("archive", window_end))
    wanted = historical and race.date >= HISTORICAL_SINCE
    if wanted and not (only_missing and (race.id, "historical_forecast") in have):
        plans.append(("historical_forecast", start - MODEL_RUN_LEAD))
    return plans


def ingest_weather(
    engine: Engine,
    meteo: OpenMeteo,
    season: int,
    as_of: dt.date | dt.datetime,
    progress: Callable[[str, int, int], None] | None = None,
    only_missing: bool = False,
    historical: bool = False,
) -> WeatherReport:
    """Weather for the season's races at `as_of` (a date is its midnight UTC): the observation
    of the races the archive has, a forecast for the races to come within the horizon, and with
    `historical` the archived forecast of each past race since 2022 that has none.

    With `only_missing`, races whose observation is stored are not asked for it again. A race
    between its start and the archive's delay is not asked (its forecasts are stored already).
    """
    now = as_moment(as_of)
    with transaction(engine) as session:
        races = session.execute(
            select(Race.id, Race.round, Race.date, Race.time, Circuit.lat, Circuit.lng)
            .join(Circuit)
            .where(Race.season == season)
            .order_by(Race.round)
        ).all()
        have = {
            (race_id, source)
            for race_id, source in session.execute(
                select(WeatherData.race_id, WeatherData.source).where(
                    WeatherData.race_id.in_([r.id for r in races])
                )
            ).tuples()
        }
    due = [(r, plan) for r in races for plan in _plans(r, now, have, only_missing, historical)]
    rows, without = [], []
    for done, (race, (source, issued_at)) in enumerate(due, start=1):
        start = dt.datetime.combine(race.date, race.time) if race.time else None
        answer = meteo.hourly(source, race.lat, race.lng, race.date)
        weather = summarise(answer, start, race.date)
        if weather is None:
            without.append(race.round)
        else:
            rows.append({"race_id": race.id, "source": source, "issued_at": issued_at, **weather})
        if progress:
            progress("weather", done, len(due))
    table: Table = WeatherData.__table__  # type: ignore[assignment]
    counts = UpsertCounts()
    stamp = {"fetched_at": dt.datetime.now(dt.UTC)}
    with transaction(engine) as session:
        for source in SOURCES:
            # a forecast per fetch (all kept); one observation and one archived forecast per race
            counts += upsert(
                session,
                table,
                [r for r in rows if r["source"] == source],
                ("race_id", "source", "issued_at")
                if source == "forecast"
                else ("race_id", "source"),
                scope=(table.c.source == source) & table.c.race_id.in_([r.id for r in races]),
                stamp=stamp,
            )
    if without:
        log.info("season %d: no weather values for rounds %s (left without)", season, without)
    return WeatherReport(season, len(due), counts, without)
