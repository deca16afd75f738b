"""An Open-Meteo archive, forecast and historical forecast API (hourly, one day per request)
with weather we choose."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tests.servers.base import Answer


@dataclass
class OpenMeteoApi:
    """Dry, mild weather everywhere, except the hours of rain and the gaps a test sets."""

    rain: dict[str, list[float]] = field(default_factory=dict)  # date -> 24 hourly mm
    missing: set[str] = field(default_factory=set)  # dates with no data (nulls)
    utc_offset_s: int = 0

    def __call__(self, path: str, query: dict[str, str]) -> Answer:
        if path not in ("/v1/archive", "/v1/forecast", "/v1/historical/forecast"):
            return 404, {"error": True, "reason": "Not Found"}
        try:
            day = dt.date.fromisoformat(query["start_date"])
            lat = float(query["latitude"])
        except (KeyError, ValueError) as error:
            return 400, {"error": True, "reason": f"bad parameters: {error}"}
        hours = [f"{day.isoformat()}T{h:02d}:00" for h in range(24)]
        if day.isoformat() in self.missing:
            series: dict[str, list[Any]] = {
                name: [None] * 24
                for name in (
                    "temperature_2m",
                    "precipitation",
                    "wind_speed_10m",
                    "relative_humidity_2m",
                )
            }
        else:
            series = {
                "temperature_2m": [round(12 + abs(lat) % 10 + h / 4, 1) for h in range(24)],
                "precipitation": self.rain.get(day.isoformat(), [0.0] * 24),
                "wind_speed_10m": [8.0 + h % 5 for h in range(24)],
                "relative_humidity_2m": [55 + h % 7 for h in range(24)],
            }
        return 200, {
            "latitude": lat,
            "longitude": float(query.get("longitude", 0)),
            "utc_offset_seconds": self.utc_offset_s,
            "timezone": "GMT",
            "hourly_units": {
                "time": "iso8601",
                "temperature_2m": "°C",
                "precipitation": "mm",
                "wind_speed_10m": "km/h",
                "relative_humidity_2m": "%",
            },
            "hourly": {"time": hours, **series},
        }
