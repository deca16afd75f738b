"""Weather features are forecasts known at the stage's cut-off, never the observation, on
SQLite and PostgreSQL: Abu Dhabi 2024 (first practice Friday 6 Dec 09:30 UTC, lights out
Sunday 8 Dec 13:00 UTC)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, text

from feature_store.build import build_views
from feature_store.frames import load_frames

WEATHER = ("air_temperature_c", "precipitation_mm", "wet")


def _add(
    connection: Connection, race_id: int, source: str, issued: dt.datetime, rain: float
) -> None:
    connection.execute(
        text(
            "INSERT INTO weather (race_id, air_temperature_c, precipitation_mm, wind_speed_kmh, "
            "humidity_pct, condition, source, issued_at, fetched_at) VALUES (:race, :temp, "
            ":rain, 10, 50, :condition, :source, :issued, :issued)"
        ),
        {
            "race": race_id,
            "temp": 20 + rain,
            "rain": rain,
            "condition": "wet" if rain else "dry",
            "source": source,
            "issued": issued,
        },
    )


def _weather_of(views: dict[str, pd.DataFrame], race_id: int) -> dict[str, list]:
    return {
        stage: frame.loc[frame["race_id"] == race_id, list(WEATHER)]
        .drop_duplicates()
        .values[0]
        .tolist()
        for stage, frame in views.items()
    }


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_each_stage_takes_the_latest_forecast_before_its_cut_off(history) -> None:
    with history.connect() as connection:
        race = connection.scalar(text("SELECT id FROM races WHERE season = 2024 AND round = 24"))
        connection.rollback()
        transaction = connection.begin()
        try:
            _add(connection, race, "forecast", _utc(2024, 12, 4, 6), 0.0)
            _add(connection, race, "forecast", _utc(2024, 12, 5, 18), 1.5)  # before FP1
            _add(connection, race, "forecast", _utc(2024, 12, 6, 10), 2.5)  # after FP1
            _add(connection, race, "forecast", _utc(2024, 12, 7, 12), 3.0)  # before qualifying
            _add(connection, race, "historical_forecast", _utc(2024, 12, 8, 7), 4.0)
            _add(connection, race, "forecast", _utc(2024, 12, 8, 13, 30), 9.0)  # after the start
            views = build_views(load_frames(connection))
            before = _weather_of(views, race)
            # the observation arrives: nothing of the race's features may change
            _add(connection, race, "archive", _utc(2024, 12, 8, 16), 30.0)
            after = build_views(load_frames(connection))
        finally:
            transaction.rollback()
    assert before == {
        "pre_quali": [21.5, 1.5, 1.0],
        "post_practice": [23.0, 3.0, 1.0],
        "post_quali": [24.0, 4.0, 1.0],
    }
    for stage, frame in views.items():
        pd.testing.assert_frame_equal(
            after[stage][after[stage]["race_id"] == race].reset_index(drop=True),
            frame[frame["race_id"] == race].reset_index(drop=True),
            obj=stage,
        )


def test_an_observation_alone_gives_no_weather(history) -> None:
    with history.connect() as connection:
        race = connection.scalar(text("SELECT id FROM races WHERE season = 2023 AND round = 5"))
        connection.rollback()
        transaction = connection.begin()
        try:
            _add(connection, race, "archive", _utc(2023, 5, 8), 12.0)
            views = build_views(load_frames(connection))
        finally:
            transaction.rollback()
    for frame in views.values():
        assert frame.loc[frame["race_id"] == race, list(WEATHER)].isna().all().all()
