"""Settings of the HTTP service, from the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from spec.settings import WarehouseSettings


class ServiceSettings(BaseSettings):
    """Where the service listens, which warehouse it reads, and how it serves models."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    # production: the service refuses to start without a strong F1_JWT_SECRET
    environment: Literal["development", "production"] = Field(
        default="development", validation_alias="F1_ENV"
    )
    host: str = Field(default="127.0.0.1", validation_alias="F1_SERVICE_HOST")
    port: int = Field(default=8000, validation_alias="F1_SERVICE_PORT")
    database_url: str = Field(default_factory=lambda: WarehouseSettings().database_url)
    # Signs the API's tokens; without it a random secret is made at start-up (tokens then
    # die with the process). `make up` keeps one in $F1_HOME/secrets.env.
    jwt_secret: str | None = Field(default=None, validation_alias="F1_JWT_SECRET")
    token_minutes: int = Field(default=60, ge=1, validation_alias="F1_TOKEN_MINUTES")
    # Share of prediction requests answered by the challenger (sticky per client).
    ab_share: float = Field(default=0.10, ge=0.0, le=1.0, validation_alias="F1_AB_SHARE")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    load_models: bool = Field(default=True, validation_alias="F1_LOAD_MODELS")
    # How often the service looks at the registry's aliases (and the published features) and
    # loads what moved: a promotion, a new challenger or a rollback is served within this.
    model_refresh_s: float = Field(default=15.0, gt=0, le=60, validation_alias="F1_MODEL_REFRESH_S")
    # Load (serving.capacity): threads for sync routes (the database pool is sized to match),
    # and how many requests are admitted at once before the next gets 503 + Retry-After.
    threads: int = Field(default=4, ge=1, le=256, validation_alias="F1_SERVICE_THREADS")
    switch_interval_ms: float = Field(
        default=1.0, gt=0, le=100, validation_alias="F1_SERVICE_SWITCH_INTERVAL_MS"
    )
    max_inflight: int = Field(default=32, ge=1, validation_alias="F1_SERVICE_MAX_INFLIGHT")
    # a request body may take body_wait_s, and a second more per body_min_rate bytes (then
    # 408): it is read before the request is admitted, so a slow one never holds a slot
    body_wait_s: float = Field(default=5.0, gt=0, le=60, validation_alias="F1_SERVICE_BODY_WAIT_S")
    body_min_rate: int = Field(default=1000, ge=1, validation_alias="F1_SERVICE_BODY_MIN_RATE")
    # the reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed: the client's address (sign-in limits) and https (secure
    # cookies) come from them. None by default: behind ingress-nginx, its pods' network.
    trusted_proxies: str = Field(default="", validation_alias="F1_SERVICE_TRUSTED_PROXIES")
    # uvicorn: connections at once before it answers 503 itself; idle keep-alive seconds
    max_connections: int = Field(default=2048, ge=16, validation_alias="F1_SERVICE_MAX_CONNECTIONS")
    keep_alive_s: int = Field(default=5, ge=1, le=120, validation_alias="F1_SERVICE_KEEP_ALIVE_S")
    # /ready answers 503 once every admission slot has been busy this long without a break
    starved_after_s: float = Field(default=5.0, gt=0, validation_alias="F1_SERVICE_STARVED_AFTER_S")
    # no statement of a request may hold the database longer (PostgreSQL statement_timeout,
    # SQLite's progress handler): the request gets 503 with Retry-After
    statement_timeout_s: float = Field(
        default=10.0, gt=0, le=600, validation_alias="F1_SERVICE_STATEMENT_TIMEOUT_S"
    )
    # answers computed at once (serving.predictions.Computing): more only take turns on the GIL
    compute_slots: int = Field(default=1, ge=1, le=64, validation_alias="F1_SERVICE_COMPUTE_SLOTS")
    # Mail for the voting app's sign-in codes; without a host they go to the outbox table
    # (development), which admins read at GET /api/v1/voting/outbox.
    smtp_host: str | None = Field(default=None, validation_alias="F1_SMTP_HOST")
    smtp_port: int = Field(default=587, validation_alias="F1_SMTP_PORT")
    smtp_user: str | None = Field(default=None, validation_alias="F1_SMTP_USER")
    smtp_password: str | None = Field(default=None, validation_alias="F1_SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=True, validation_alias="F1_SMTP_STARTTLS")
    mail_from: str = Field(default="pta-elections@localhost", validation_alias="F1_MAIL_FROM")
    # The other UIs, linked from the web app's footer when set (`f1 up` sets the first two).
    airflow_url: str | None = Field(default=None, validation_alias="F1_AIRFLOW_URL")
    mlflow_url: str | None = Field(default=None, validation_alias="F1_MLFLOW_URL")
    grafana_url: str | None = Field(default=None, validation_alias="F1_GRAFANA_URL")


WEAK_SECRETS = {"change-me", "changeme", "secret", "password", "jwt-secret", "dev"}
MIN_SECRET_LENGTH = 32


def secret_problem(settings: ServiceSettings) -> str | None:
    """Why the JWT secret is not fit for production, or None."""
    secret = settings.jwt_secret
    if secret is None:
        return "F1_JWT_SECRET is not set"
    if secret.lower() in WEAK_SECRETS or len(set(secret)) < 8:
        return "F1_JWT_SECRET is a placeholder or too uniform"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"F1_JWT_SECRET has {len(secret)} characters; at least {MIN_SECRET_LENGTH} needed"
    return None
