"""Where the live sources are and how hard we may press them (environment only)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    """Base URLs and client limits of the F1 API and Open-Meteo.

    The limiter defaults sit just under Jolpica's published limits (4 requests/s burst,
    500 per hour) so clock jitter on either side never trips them.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    f1_api_base_url: str = Field(
        default="https://api.jolpi.ca/ergast/f1", validation_alias="F1_API_BASE_URL"
    )
    f1_api_per_second: float = Field(default=3.0, validation_alias="F1_API_RATE_PER_SECOND")
    f1_api_per_hour: int = Field(default=450, validation_alias="F1_API_RATE_PER_HOUR")
    retry_attempts: int = Field(default=6, validation_alias="F1_API_RETRY_ATTEMPTS")
    retry_backoff_s: float = Field(default=0.5, validation_alias="F1_API_BACKOFF_S")
    timeout_s: float = Field(default=30.0, validation_alias="F1_API_TIMEOUT_S")
    # OpenF1 (practice sessions, which the Jolpica API does not serve): free for past sessions,
    # 3 requests a second at most
    openf1_base_url: str = Field(
        default="https://api.openf1.org/v1", validation_alias="OPENF1_BASE_URL"
    )
    openf1_per_second: float = Field(default=2.5, validation_alias="OPENF1_RATE_PER_SECOND")
    # False: no practice is fetched (a replay or a test without an OpenF1 server)
    practice: bool = Field(default=True, validation_alias="F1_PRACTICE")
    # False: no weather is fetched (e.g. a replay without an Open-Meteo server)
    weather: bool = Field(default=True, validation_alias="F1_WEATHER")
    open_meteo_archive_url: str = Field(
        default="https://archive-api.open-meteo.com/v1/archive",
        validation_alias="OPEN_METEO_ARCHIVE_URL",
    )
    open_meteo_forecast_url: str = Field(
        default="https://api.open-meteo.com/v1/forecast", validation_alias="OPEN_METEO_FORECAST_URL"
    )
    # archived forecasts (from 2022): what the forecast said in the hours before a past race
    open_meteo_historical_forecast_url: str = Field(
        default="https://historical-forecast-api.open-meteo.com/v1/forecast",
        validation_alias="OPEN_METEO_HISTORICAL_FORECAST_URL",
    )
    open_meteo_per_second: float = Field(default=5.0, validation_alias="OPEN_METEO_RATE_PER_SECOND")
