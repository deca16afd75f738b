"""Race weather: physical ranges and known conditions."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from expectations.common import label, named, new_suite

SQL = (
    "SELECT r.season, r.round, w.race_id, w.air_temperature_c, w.precipitation_mm, "
    "w.wind_speed_kmh, w.humidity_pct, w.condition, w.source FROM weather w "
    "JOIN races r ON r.id = w.race_id"
)


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row`."""
    frame = frame.reset_index(drop=True)
    frame["row"] = label(frame)
    return frame


def suite() -> gx.ExpectationSuite:
    """The weather suite."""
    e = gx.expectations
    return new_suite(
        "weather",
        [
            named(
                e.ExpectColumnValuesToBeBetween(
                    column="air_temperature_c", min_value=-20, max_value=55
                ),
                "air temperature between -20 and 55 °C",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(
                    column="precipitation_mm", min_value=0, max_value=200
                ),
                "rain between 0 and 200 mm",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(
                    column="wind_speed_kmh", min_value=0, max_value=200
                ),
                "wind between 0 and 200 km/h",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="humidity_pct", min_value=0, max_value=100),
                "humidity between 0 and 100 %",
            ),
            named(
                e.ExpectColumnValuesToBeInSet(
                    column="condition", value_set=["dry", "wet", "mixed"]
                ),
                "condition is dry, wet or mixed",
            ),
            named(
                e.ExpectColumnValuesToBeInSet(
                    column="source", value_set=["archive", "forecast", "historical_forecast"]
                ),
                "source is archive, forecast or historical_forecast",
            ),
        ],
    )
