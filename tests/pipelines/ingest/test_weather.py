"""Race-time weather from a local Open-Meteo: windows, conditions, gaps and idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from pipelines.ingest.http import JsonClient, RateLimiter
from pipelines.ingest.weather import OpenMeteo, ingest_weather, summarise
from tests.servers.base import LocalServer
from tests.servers.fixtures import FAST
from tests.servers.open_meteo import OpenMeteoApi
from warehouse.db import transaction
from warehouse.schema import Race, WeatherData


def _meteo(server: LocalServer) -> OpenMeteo:
    def client(path: str) -> JsonClient:
        return JsonClient(server.url + path, limiter=RateLimiter(1000), policy=FAST)

    return OpenMeteo(
        client("/v1/archive"), client("/v1/forecast"), client("/v1/historical/forecast")
    )


def _answer(rain: list[float], offset_s: int = 0) -> dict:
    api = OpenMeteoApi(rain={"2024-03-02": rain}, utc_offset_s=offset_s)
    return api("/v1/archive", {"start_date": "2024-03-02", "latitude": "26.03"})[1]


def test_the_window_is_three_hours_from_the_local_start() -> None:
    rain = [0.0] * 24
    rain[18], rain[19], rain[20] = 0.4, 0.0, 1.1  # 18:00–20:59 local
    # Bahrain 2024 started 15:00 UTC; local time is UTC+3.
    start = dt.datetime(2024, 3, 2, 15, 0)
    weather = summarise(_answer(rain, offset_s=3 * 3600), start, dt.date(2024, 3, 2))
    # the server's hours 18, 19, 20: temperature 22.5/22.8/23.0, wind 11/12/8, humidity 59/60/61
    assert weather == {
        "air_temperature_c": 22.77,
        "precipitation_mm": 1.5,
        "wind_speed_kmh": 10.33,
        "humidity_pct": 60.0,
        "condition": "mixed",
    }


def test_conditions_dry_wet_mixed_and_the_default_start() -> None:
    day = dt.date(2024, 3, 2)
    assert summarise(_answer([0.0] * 24), None, day)["condition"] == "dry"
    wet = [0.0] * 14 + [0.3, 0.2, 0.5] + [0.0] * 7  # 14:00–16:59: the default window
    assert summarise(_answer(wet), None, day)["condition"] == "wet"
    assert summarise(_answer(wet), dt.datetime(2024, 3, 2, 15), day)["condition"] == "mixed"


@pytest.fixture
def history_weather(history):  # type: ignore[no-untyped-def]
    """The shared history warehouse, its weather table emptied again afterwards."""
    yield history
    with transaction(history) as session:
        session.execute(WeatherData.__table__.delete())


def _stored(engine, column) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Round → `column` of the 2024 weather rows."""
    with transaction(engine) as session:
        query = select(Race.round, column).join(WeatherData).where(Race.season == 2024)
        return dict(session.execute(query).tuples().all())


def test_a_season_is_stored_once_and_gaps_stay_empty(history_weather, meteo: LocalServer) -> None:
    api: OpenMeteoApi = meteo.route  # type: ignore[assignment]
    api.rain["2024-07-07"] = [2.0] * 24  # British GP 2024: wet all day
    api.missing.add("2024-04-07")  # Japanese GP 2024: the archive has nothing
    as_of = dt.date(2025, 1, 15)
    report = ingest_weather(history_weather, _meteo(meteo), 2024, as_of)
    assert report.asked == 24 and report.without == [4]
    assert report.counts.inserted == 23
    stored = _stored(history_weather, WeatherData.condition)
    sources = set(_stored(history_weather, WeatherData.source).values())
    assert 4 not in stored and stored[12] == "wet" and stored[1] == "dry"
    assert sources == {"archive"}
    again = ingest_weather(history_weather, _meteo(meteo), 2024, as_of)
    assert again.counts.changed == 0 and again.counts.unchanged == 23
    requests = len(meteo.requests)
    ingest_weather(history_weather, _meteo(meteo), 2024, as_of, only_missing=True)
    assert len(meteo.requests) - requests == 1  # only the race without weather is asked


def test_coming_races_get_a_forecast_per_fetch_and_past_ones_wait_for_the_archive(
    history_weather, meteo: LocalServer
) -> None:
    monday = dt.datetime(2024, 12, 3, 6, tzinfo=dt.UTC)
    report = ingest_weather(history_weather, _meteo(meteo), 2024, monday)
    # rounds 1–22 observed; Qatar (R23, 1 Dec) run but not in the archive yet: not asked
    # (its forecasts were stored before it); Abu Dhabi (R24, 8 Dec) forecast
    assert report.asked == 23
    assert any(path.startswith("/v1/forecast") for path in meteo.requests)

    def rows() -> list[tuple[int, str, dt.datetime]]:
        with transaction(history_weather) as session:
            query = (
                select(Race.round, WeatherData.source, WeatherData.issued_at)
                .join(WeatherData)
                .where(Race.season == 2024, Race.round >= 22)
                .order_by(Race.round, WeatherData.issued_at)
            )
            return [(r, s, i.replace(tzinfo=None)) for r, s, i in session.execute(query)]

    assert rows() == [
        (22, "archive", dt.datetime(2024, 11, 24, 9)),  # the window's end (06:00 UTC start)
        (24, "forecast", dt.datetime(2024, 12, 3, 6)),  # the fetch's time
    ]
    # the same run again writes nothing; a later run keeps both forecasts
    again = ingest_weather(history_weather, _meteo(meteo), 2024, monday, only_missing=True)
    assert again.counts.changed == 0 and again.asked == 1
    friday = dt.datetime(2024, 12, 6, 8, tzinfo=dt.UTC)
    ingest_weather(history_weather, _meteo(meteo), 2024, friday, only_missing=True)
    assert rows()[1:] == [
        (24, "forecast", dt.datetime(2024, 12, 3, 6)),
        (24, "forecast", dt.datetime(2024, 12, 6, 8)),
    ]


def test_archived_forecasts_of_past_races_since_2022(history_weather, meteo: LocalServer) -> None:
    when = dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
    ingest_weather(history_weather, _meteo(meteo), 2024, when, only_missing=True)
    report = ingest_weather(
        history_weather, _meteo(meteo), 2024, when, only_missing=True, historical=True
    )
    assert report.asked == 24 and report.counts.inserted == 24
    assert any(path.startswith("/v1/historical") for path in meteo.requests)
    with transaction(history_weather) as session:
        issued = session.execute(
            select(WeatherData.issued_at)
            .join(Race)
            .where(Race.season == 2024, Race.round == 24, WeatherData.source != "archive")
        ).scalar_one()
    assert issued.replace(tzinfo=None) == dt.datetime(2024, 12, 8, 7)  # lights out − 6 h
    # asked once: a second run finds every race has one
    assert (
        ingest_weather(
            history_weather, _meteo(meteo), 2024, when, only_missing=True, historical=True
        ).asked
        == 0
    )
    before_2022 = ingest_weather(
        history_weather, _meteo(meteo), 2021, when, only_missing=True, historical=True
    )
    assert before_2022.asked == 22  # the observations only: no archived forecast before 2022
