"""Win probabilities: by race, for the next race, and for a grid of the caller's choosing.

A configurable share of callers (`F1_AB_SHARE`, default 10%) is answered by the challenger,
sticky per caller (a hash of the signed-in user, else the `X-Client-Id` header, else the
client address); every answer names the model version and is logged and counted."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from feature_store.online import NoEntrants, in_memory, upcoming_race
from feature_store.predict import UnknownEntrant, forecast_race
from models.registry import CHALLENGER, CHAMPION
from serving.auth import optional_claims
from serving.cache import Cache
from serving.deps import EngineDep, SessionRoute, platform_of
from serving.names import AUTO, StageChoice
from serving.predictions import (
    Found,
    PredictionOut,
    cache_key,
    computing,
    encoded_prediction,
    grid_problems,
    grid_stage,
    race_prediction,
)
from serving.served import Served, ServedModels, arm
from spec import STAGES
from warehouse.calendar import last_scheduled
from warehouse.db import session_factory
from warehouse.queries import sessions_stored

router = APIRouter(route_class=SessionRoute, prefix="/predictions", tags=["predictions"])
log = logging.getLogger("serving.ab")
Explain = Annotated[
    bool,
    Query(
        description="Add each driver's largest contributions to its probability (log-odds "
        "against the race's average entrant), named as in the feature view's documentation."
    ),
]
WithMarkets = Annotated[
    bool,
    Query(
        description="Add each driver's markets (podium, top 6, points, DNF, expected points, "
        "the teammate head-to-head, P(finishes k-th)) from the stage's finishing-order model."
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "unknown race or entrants"}}


class GridSlot(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    driver_id: str = Field(description="Ergast id, e.g. max_verstappen")
    position: int = Field(ge=1, le=40)


class WhatIf(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    season: int = Field(ge=1950, le=2100)
    round: int = Field(ge=1, le=40)
    grid: list[GridSlot] = Field(min_length=2, max_length=40)


def _invalid(loc: tuple[str | int, ...], message: str, value: Any) -> RequestValidationError:
    """A 422 in FastAPI's documented shape, naming the field and what was wrong with it."""
    return RequestValidationError(
        [{"type": "value_error", "loc": loc, "msg": message, "input": value}]
    )


def caller(request: Request, claims: dict[str, Any] | None) -> str:
    if claims is not None:
        return f"user:{claims['sub']}"
    header = request.headers.get("x-client-id")
    if header:
        return f"client:{header}"
    return f"addr:{request.client.host if request.client else 'unknown'}"


Claims = Annotated[dict[str, Any] | None, Depends(optional_claims)]


def order_model(request: Request, stage: str, served: Served) -> Served:
    """The finishing-order version adding the markets to `served`'s answer: the challenger
    on the challenger's side of the A/B split when there is one, else the champion."""
    models: ServedModels = platform_of(request).models
    order = models.get(stage, served.alias, "order") or models.get(stage, CHAMPION, "order")
    if order is None:
        raise HTTPException(
            503,
            f"no finishing-order model is loaded for {stage}: run "
            f"`f1 train --stage {stage} --target order`",
        )
    return order


def choose(request: Request, stage: str, claims: dict[str, Any] | None) -> Served:
    """The model answering this caller for `stage` (challenger for the A/B share)."""
    models: ServedModels = platform_of(request).models
    champion = models.champion(stage)
    if champion is None:
        raise HTTPException(503, f"no champion model is loaded for {stage}: run `f1 train`")
    client = caller(request, claims)
    side = arm(client, platform_of(request).settings.ab_share)
    challenger = models.get(stage, CHALLENGER)
    served = challenger if side == CHALLENGER and challenger is not None else champion
    platform_of(request).metrics.ab_answers.labels(stage, served.alias, served.version).inc()
    log.info(
        "ab stage=%s arm=%s version=%s client=%s",
        stage,
        served.alias,
        served.version,
        hashlib.sha256(client.encode()).hexdigest()[:12],
    )
    return served


def no_upcoming_race(engine: Engine) -> str:
    """Why there is no next race, and what to run."""
    last = last_scheduled(engine)
    year = dt.datetime.now(dt.UTC).year
    held = (
        "the warehouse holds no race"
        if last is None
        else f"the warehouse's calendar ends with {last.season} R{last.round}, {last.name} "
        f"({last.race_start.date()})"
    )
    return (
        f"no upcoming race is known: {held}. Load this season's calendar with "
        f"`f1 ingest season {year}`, or trigger the f1_ingest DAG with the param season {year} "
        "(both need the Jolpica F1 API)"
    )


def stages_known(engine: Engine, season: int, round_: int) -> list[str]:
    """The stages the race's stored sessions allow, in order: a stage that opens with a
    session (practice, qualifying) once that session is stored."""
    with session_factory(engine)() as session:
        stored = sessions_stored(session, season, round_)
    usable = sorted((s for s in STAGES if s.opens == "previous_race" or s.opens in stored),
                    key=lambda s: s.order)  # fmt: skip
    return [s.name for s in usable]


def resolve_stage(engine: Engine, season: int, round_: int, stage: str) -> str:
    """`auto`: the latest of `stages_known`."""
    if stage != AUTO:
        return stage
    return stages_known(engine, season, round_)[-1]


async def answer(
    request: Request,
    engine: Engine,
    season: int,
    round_: int,
    stage: str,
    claims: Any,
    explain: bool = False,
    markets: bool = False,
) -> Response:
    """The prediction as stored in the cache. The event loop itself answers a hit in this
    process; the database, Redis and the model are only touched in the threadpool."""
    if stage == AUTO:
        stage = await run_in_threadpool(resolve_stage, engine, season, round_, AUTO)
    models: ServedModels = platform_of(request).models
    if models.get(stage, CHAMPION) is None:  # perhaps trained since: look (in the threadpool)
        await run_in_threadpool(models.champion, stage)
    served = choose(request, stage, claims)
    order = order_model(request, stage, served) if markets else None
    features = models.features
    key = cache_key(served, features, season, round_, stage, explain, order)
    cache: Cache = platform_of(request).cache
    body = cache.peek(key)
    found: Found = "local"
    if body is None:
        try:
            if not explain and order is None and in_memory(engine, season, round_, (stage,)):
                # about a millisecond from memory: on the event loop (a thread hop and the
                # GIL's hand-overs would cost as much again)
                hit = await cache.fetch(key)
                if hit is None:
                    body, found = (
                        encoded_prediction(engine, served, season, round_, stage),
                        "computed",
                    )
                    await cache.store(key, body)
                else:
                    body, found = hit
            else:
                body, found = await run_in_threadpool(
                    race_prediction,
                    engine,
                    cache,
                    served,
                    features,
                    season,
                    round_,
                    stage,
                    explain,
                    order,
                )
        except NoEntrants as error:
            raise HTTPException(404, str(error)) from None
        except ValueError as error:  # only an explanation the model cannot give
            raise HTTPException(
                422, f"{served.name} v{served.version} cannot explain itself: {error}"
            ) from None
    platform_of(request).metrics.cache.labels(found).inc()
    return Response(
        body, media_type="application/json", headers={"X-Model-Version": served.version}
    )


@router.get("/next-race", responses=NOT_FOUND, response_model=PredictionOut)
async def next_race(
    request: Request,
    engine: EngineDep,
    claims: Claims,
    stage: StageChoice = AUTO,
    explain: Explain = False,
    markets: WithMarkets = False,
) -> Response:
    """The next race without results (from today, UTC)."""
    race = await run_in_threadpool(upcoming_race, engine)
    if race is None:
        raise HTTPException(404, await run_in_threadpool(no_upcoming_race, engine))
    return await answer(request, engine, race.season, race.round, stage, claims, explain, markets)


@router.get("/{season}/{round}", responses=NOT_FOUND, response_model=PredictionOut)
async def by_race(
    request: Request,
    engine: EngineDep,
    claims: Claims,
    season: Annotated[int, Path(ge=1950, le=2100)],
    round: Annotated[int, Path(ge=1, le=2**31 - 1)],  # noqa: A002
    stage: StageChoice = AUTO,
    explain: Explain = False,
    markets: WithMarkets = False,
) -> Response:
    """Every entrant's win probability for one race (summing to 1); with `markets`, every
    market of the race's finishing-order distribution."""
    return await answer(request, engine, season, round, stage, claims, explain, markets)


@router.post(
    "/what-if",
    responses={**NOT_FOUND, 422: {"description": "unknown driver or repeated grid slot"}},
    response_model=PredictionOut,
)
async def what_if(request: Request, engine: EngineDep, claims: Claims, body: WhatIf) -> Response:
    """Probabilities for the race's entrants starting in the grid order given (post_quali
    model; each driver's other features as of the race; the lap-time gap left unknown)."""
    problems = grid_problems([(s.driver_id, s.position) for s in body.grid])
    if problems:
        first = problems[0]
        raise _invalid(("body", "grid", first.index, first.field), first.message, first.value)
    stage = grid_stage()
    served = choose(request, stage, claims)
    grid = {s.driver_id: s.position for s in body.grid}
    try:
        # the rows of the stage, else of the earliest one (forecast_race): from memory, on the
        # event loop; otherwise built in a thread
        if in_memory(engine, body.season, body.round, (stage, STAGES[0].name)):
            answer = encoded_what_if(engine, body.season, body.round, stage, served, grid)
        else:
            answer = await run_in_threadpool(
                computed_what_if, engine, body.season, body.round, stage, served, grid
            )
    except NoEntrants as error:
        raise HTTPException(404, str(error)) from None
    except UnknownEntrant as error:
        raise _invalid(
            ("body", "grid", error.index, "driver_id"), str(error), error.driver
        ) from None
    # encoded once, as the cached answers are (no second validation of the response model)
    return Response(
        answer, media_type="application/json", headers={"X-Model-Version": served.version}
    )


def encoded_what_if(
    engine: Engine, season: int, round_: int, stage: str, served: Served, grid: dict[str, int]
) -> bytes:
    forecast = forecast_race(engine, season, round_, stage, served, grid=grid)
    return PredictionOut.model_validate(forecast.card(engine)).model_dump_json().encode()


def computed_what_if(
    engine: Engine, season: int, round_: int, stage: str, served: Served, grid: dict[str, int]
) -> bytes:
    """`encoded_what_if` in a thread, taking its turn with the other computing threads."""
    with computing:
        return encoded_what_if(engine, season, round_, stage, served, grid)
