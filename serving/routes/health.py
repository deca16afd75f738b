"""Liveness and readiness, at the root (outside /api/v1) for load balancers and probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from serving.deps import EngineDep
from warehouse.migrate import SchemaNotReady, require_head

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the service can answer: its database reachable and migrated."""

    status: Literal["ready", "not ready"]
    database: str
    schema_revision: str | None = None
    champion: str | None = None  # the served model version, once models are served


@router.get("/health")
def health() -> Health:
    """Liveness: the process answers."""
    return Health()


@router.get("/ready", responses={503: {"model": Readiness}})
def ready(engine: EngineDep, response: Response) -> Readiness:
    """Readiness: the warehouse is reachable and at the schema revision this code needs."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = require_head(engine)
    except SchemaNotReady as error:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="not ready", database=str(error))
    except SQLAlchemyError as error:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="not ready", database=f"unreachable: {type(error).__name__}")
    return Readiness(status="ready", database="ok", schema_revision=revision)
