"""Liveness and readiness, at the root (outside /api/v1) for load balancers and probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from serving.capacity import DatabaseProbe
from spec import STAGE_NAMES

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the service can answer: its database reachable and migrated."""

    status: Literal["ready", "not ready"]
    database: str
    schema_revision: str | None = None
    champion: dict[str, str | None] | None = None  # stage → the served champion version


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers (on the event loop: no thread, no database)."""
    return Health()


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(request: Request, response: Response) -> Readiness:
    """Readiness: the warehouse is reachable and at the schema revision this code needs, and a
    champion model is loaded for each stage (`champion`: the versions served). The database
    check runs on the probe's own thread, at most once a second (serving.capacity)."""
    probe: DatabaseProbe = request.app.state.probe
    revision, problem = await probe.state()
    if revision is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="not ready", database=problem)
    models = request.app.state.models
    loaded = {stage: models.champion(stage) for stage in STAGE_NAMES}
    champion = {stage: served.version if served else None for stage, served in loaded.items()}
    if not all(champion.values()):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(
            status="not ready", database="ok", schema_revision=revision, champion=champion
        )
    return Readiness(status="ready", database="ok", schema_revision=revision, champion=champion)
