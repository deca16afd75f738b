"""Where the platform's stores live, read from the environment (F1_HOME, F1_DATABASE_URL,
F1_ARTIFACTS_URL): the warehouse, the artifacts, the feature store and MLflow's defaults."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WarehouseSettings(BaseSettings):
    """Warehouse location; the embedded default is a SQLite file under F1_HOME."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    f1_home: Path = Field(default=Path(".local"), validation_alias="F1_HOME")
    database_url_override: str | None = Field(default=None, validation_alias="F1_DATABASE_URL")
    # Where MLflow artifacts, backtest reports and exports go: s3://bucket[/prefix] or a folder
    # (default: F1_HOME). The S3 endpoint and keys come from boto3's own variables
    # (AWS_ENDPOINT_URL_S3 for MinIO, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
    artifacts_url_override: str | None = Field(default=None, validation_alias="F1_ARTIFACTS_URL")

    @cached_property
    def artifacts_url(self) -> str:
        """F1_ARTIFACTS_URL without a trailing slash, else the absolute F1_HOME folder."""
        if self.artifacts_url_override:
            return self.artifacts_url_override.rstrip("/")
        return str(self.f1_home.resolve())

    @cached_property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the warehouse (F1_DATABASE_URL, else SQLite in F1_HOME)."""
        if self.database_url_override:
            return normalise_url(self.database_url_override)
        return f"sqlite:///{self.f1_home.resolve() / 'warehouse.db'}"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain PostgreSQL URLs (`postgresql://`, `postgres://`)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
