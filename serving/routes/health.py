"""Liveness and readiness, at the root (outside /api/v1) for load balancers and probes."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from serving.deps import platform_of
from spec import STAGES

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
    admission: str | None = None  # why no request can be admitted, when that is so


@router.get("/health")
async def health() -> Health:
    """Liveness: the process answers (on the event loop: no thread, no database)."""
    return Health()


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(request: Request, response: Response) -> Readiness:
    """Readiness: the warehouse is reachable and at the schema revision this code needs, a
    champion model is loaded for each stage (`champion`: the versions served), and requests
    are being admitted (not every slot busy for F1_SERVICE_STARVED_AFTER_S). The database
    check runs on the probe's own thread, at most once a second (serving.capacity)."""
    built = platform_of(request)
    revision, problem = await built.probe.state()
    if revision is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(status="not ready", database=problem)
    admission = built.layers.get("admission")
    starved = admission.starved_for() if admission is not None else 0.0
    if admission is not None and starved >= built.settings.starved_after_s:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        detail = f"every one of {admission.limit} admission slots busy for {starved:.0f} s"
        return Readiness(
            status="not ready", database="ok", schema_revision=revision, admission=detail
        )
    models = built.models
    loaded = {stage: models.champion(stage) for stage in STAGES.names}
    champion = {stage: served.version if served else None for stage, served in loaded.items()}
    if not all(champion.values()):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Readiness(
            status="not ready", database="ok", schema_revision=revision, champion=champion
        )
    return Readiness(status="ready", database="ok", schema_revision=revision, champion=champion)
