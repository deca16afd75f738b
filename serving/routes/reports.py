"""Accuracy of stored predictions (champion vs challenger) and streamed exports."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Engine, Select

from bot.benchmark import RaceBenchmark, from_warehouse
from bot.benchmark import overall as market_overall
from serving.auth import require
from serving.deps import EngineDep, SessionDep, SessionRoute, platform_of
from serving.served import ALIASES, ServedModels
from spec import STAGES
from warehouse import csvsafe
from warehouse.exports import (
    PREDICTION_COLUMNS,
    RESULT_COLUMNS,
    season_predictions,
    season_results,
)
from warehouse.queries import accuracy_rows

router = APIRouter(route_class=SessionRoute, tags=["analytics"])
Format = Literal["csv", "json"]


class RaceAccuracy(BaseModel):
    season: int
    round: int
    race: str
    stage: str
    model_name: str
    model_version: str
    alias: str | None
    log_loss: float
    brier: float
    top1: bool
    top3: bool


class VersionAccuracy(BaseModel):
    model_name: str
    model_version: str
    alias: str | None
    races: int
    log_loss: float
    brier: float
    top1: float
    top3: float


class MarketBenchmarkOverall(BaseModel):
    market_type: str
    races: int
    moments: int
    market_log_loss: float
    model_log_loss: float
    market_brier: float
    model_brier: float


class AccuracyOut(BaseModel):
    races: list[RaceAccuracy]
    overall: list[VersionAccuracy]
    # the betting market scored beside the model at the same moments, per race and type
    market: list[RaceBenchmark] = []
    market_overall: list[MarketBenchmarkOverall] = []


@router.get("/analytics/accuracy")
def accuracy(
    request: Request,
    session: SessionDep,
    season: Annotated[int | None, Query(ge=1950, le=2100)] = None,
    model: Annotated[str | None, Query(description="registered model name")] = None,
) -> AccuracyOut:
    """How every stored prediction scored, per race and per model version (the versions now
    serving as champion and challenger are marked by their alias). Each stage's baseline is
    scored on the same races, the reference to beat: `baseline_last_winner` before qualifying,
    `baseline_grid` after it. `market`: the betting market as a benchmark, its normalised prices
    (as the Polymarket bot read them) beside the model's probabilities at the same moments."""
    served: ServedModels = platform_of(request).models
    aliases = {
        (m.name, m.version): m.alias
        for m in (served.get(stage, alias) for stage in STAGES.names for alias in ALIASES)
        if m is not None
    }
    rows = accuracy_rows(session, season, model)
    races = [
        RaceAccuracy(
            season=race.season,
            round=race.round,
            race=race.name,
            stage=a.stage,
            model_name=a.model_name,
            model_version=a.model_version,
            alias=aliases.get((a.model_name, a.model_version)),
            log_loss=a.log_loss,
            brier=a.brier,
            top1=a.top1,
            top3=a.top3,
        )
        for a, race in rows
    ]
    groups: dict[tuple[str, str], list[RaceAccuracy]] = {}
    for r in races:
        groups.setdefault((r.model_name, r.model_version), []).append(r)
    overall = [
        VersionAccuracy(
            model_name=name,
            model_version=version,
            alias=aliases.get((name, version)),
            races=len(group),
            log_loss=sum(r.log_loss for r in group) / len(group),
            brier=sum(r.brier for r in group) / len(group),
            top1=sum(r.top1 for r in group) / len(group),
            top3=sum(r.top3 for r in group) / len(group),
        )
        for (name, version), group in sorted(groups.items())
    ]
    market = from_warehouse(session, season)
    return AccuracyOut(
        races=races,
        overall=overall,
        market=market,
        market_overall=[MarketBenchmarkOverall(**row) for row in market_overall(market)],
    )


def _stream(
    engine: Engine, query: Select[Any], columns: tuple[str, ...], fmt: Format, name: str
) -> StreamingResponse:
    """A season's rows, read in one short query, then sent in 16 KiB chunks.

    No database connection is held while the body is sent: a client that reads slowly or hangs
    up mid-download cannot keep one checked out ("idle in transaction" on PostgreSQL) and starve
    the pool. A season is at most tens of thousands of rows, a few MB."""
    with engine.connect() as connection:
        rows = connection.execute(query).all()

    def csv_chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csvsafe.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > 16_384:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    def json_chunks() -> Iterator[str]:
        parts = ["["]
        for i, row in enumerate(rows):
            parts.append(("," if i else "") + json.dumps(dict(zip(columns, row, strict=True))))
            if len(parts) >= 100:
                yield "".join(parts)
                parts = []
        yield "".join(parts) + "]"

    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(
        csv_chunks() if fmt == "csv" else json_chunks(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


EXPORT = require("analyst", "admin")
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the rows as CSV (`format=csv`, with a header line) or a JSON array",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


@router.get("/export/race-results", dependencies=[EXPORT], tags=["export"], responses=EXPORTED)
def export_results(
    engine: EngineDep,
    season: Annotated[int, Query(ge=1950, le=2100)],
    format: Format = "csv",  # noqa: A002
) -> StreamingResponse:
    """A season's race results, streamed as CSV or JSON (analyst or admin)."""
    return _stream(
        engine, season_results(season), RESULT_COLUMNS, format, f"f1-race-results-{season}"
    )


@router.get("/export/predictions", dependencies=[EXPORT], tags=["export"], responses=EXPORTED)
def export_predictions(
    engine: EngineDep,
    season: Annotated[int, Query(ge=1950, le=2100)],
    format: Format = "csv",  # noqa: A002
) -> StreamingResponse:
    """A season's stored predictions, streamed as CSV or JSON (analyst or admin)."""
    return _stream(
        engine, season_predictions(season), PREDICTION_COLUMNS, format, f"f1-predictions-{season}"
    )
