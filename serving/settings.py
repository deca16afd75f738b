"""Settings of the HTTP service, from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.settings import WarehouseSettings


class ServiceSettings(BaseSettings):
    """Where the service listens and which warehouse it reads."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", validation_alias="F1_SERVICE_HOST")
    port: int = Field(default=8000, validation_alias="F1_SERVICE_PORT")
    database_url: str = Field(default_factory=lambda: WarehouseSettings().database_url)
