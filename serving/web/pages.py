"""The web app's F1 pages and its sign-in: server-rendered HTML (Jinja2), charts drawn by
vega-embed, what-if through htmx. The pages answer from the same cache and A/B assignment as
the API (serving.predictions), signed in with the same users (serving.web.session)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from feature_store.online import NoEntrants, upcoming_race
from feature_store.predict import UnknownEntrant, forecast_race
from serving import racing, racing_history
from serving.deps import platform_of
from serving.predictions import PredictionOut, grid_problems, grid_stage, race_prediction
from serving.racing_models import RaceDetail
from serving.routes.predictions import choose, no_upcoming_race, stages_known
from serving.web import charts
from serving.web.session import (
    PostedForm,
    render,
    web_claims,
)
from spec import stage as spec_stage

router = APIRouter(include_in_schema=False)
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]
Season = Annotated[int, Path(ge=1950, le=2100)]
Round = Annotated[int, Path(ge=1, le=2**31 - 1)]  # a round no season has: 404
GRID_STAGE = grid_stage()


def _engine(request: Request) -> Engine:
    engine: Engine = platform_of(request).engine
    return engine


def prediction(
    request: Request,
    season: int,
    round_: int,
    stage: str,
    claims: dict[str, Any] | None,
    markets: bool = False,
    explain: bool = False,
) -> dict[str, Any] | None:
    """The API's answer for the race at `stage` (cached as the API caches it), or None when
    the stage has no model or no entrants yet."""
    models = platform_of(request).models
    if models.champion(stage) is None:
        return None
    served = choose(request, stage, claims)
    order = None
    if markets:
        order = models.get(stage, served.alias, "order") or models.get(stage, "champion", "order")
    try:
        body, _ = race_prediction(
            _engine(request),
            platform_of(request).cache,
            served,
            models.features,
            season,
            round_,
            stage,
            explain,
            order,
        )
    except NoEntrants:
        return None
    except ValueError:  # a model that cannot explain itself: the answer without reasons
        return prediction(request, season, round_, stage, claims, markets) if explain else None
    answer: dict[str, Any] = json.loads(body)
    return answer


def _race_detail(engine: Engine, season: int, round_: int) -> RaceDetail | None:
    with Session(engine) as session:
        return racing.race_detail(session, season, round_)


def _qualifying(engine: Engine, season: int, round_: int) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return racing_history.qualifying(session, season, round_)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, claims: Claims) -> HTMLResponse:
    """The next race with a countdown and each stage's probabilities as they become known;
    the last race, prediction against result."""
    engine = _engine(request)
    upcoming = upcoming_race(engine)
    nxt: dict[str, Any] | None = None
    if upcoming is not None:
        detail = _race_detail(engine, upcoming.season, upcoming.round)
        stages = {
            stage: prediction(request, upcoming.season, upcoming.round, stage, claims)
            for stage in stages_known(engine, upcoming.season, upcoming.round)
        }
        nxt = {"race": detail, "stages": stages, "charts": _stage_charts(stages)}
    with Session(engine) as session:
        last = racing_history.last_with_results(session)
    previous = None
    if last is not None:
        detail = _race_detail(engine, *last)
        answer = prediction(request, *last, GRID_STAGE, claims)
        previous = {"race": detail, "prediction": _with_results(answer, detail)}
    return render(
        request,
        "home.html",
        {
            "next": nxt,
            "no_next": None if upcoming else no_upcoming_race(engine),
            "previous": previous,
            "models": platform_of(request).models.describe(),
        },
        claims,
    )


def _stage_charts(stages: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    return {
        stage: charts.probability_bars(
            answer["predictions"], f"P(win), {spec_stage(stage).title.lower()}"
        )
        for stage, answer in stages.items()
        if answer is not None
    }


def _with_results(
    answer: dict[str, Any] | None, detail: RaceDetail | None
) -> dict[str, Any] | None:
    """The prediction's entries with each driver's finishing place."""
    if answer is None or detail is None:
        return answer
    finished = {r.driver_id: r.position_text for r in detail.results}
    for entry in answer["predictions"]:
        entry["finished"] = finished.get(entry["driver_id"], "–")
    return answer


@router.get("/season/{season}", response_class=HTMLResponse)
def calendar(request: Request, claims: Claims, season: Season) -> HTMLResponse:
    """A season's races and where each stands: scheduled, qualifying done, result in."""
    engine = _engine(request)
    with Session(engine) as session:
        races = racing.calendar(session, season)
        qualified = racing_history.qualified_rounds(session, season)
        seasons = racing_history.seasons(session)
    if not races:
        raise HTTPException(404, f"no races of {season} in the warehouse")
    rows = [
        {
            "race": race,
            "status": "result in"
            if race.has_results
            else "qualifying done"
            if race.round in qualified
            else "scheduled",
        }
        for race in races
    ]
    return render(
        request, "calendar.html", {"season": season, "rows": rows, "seasons": seasons}, claims
    )


@router.get("/season", response_class=HTMLResponse)
def this_season(
    request: Request, season: Annotated[int | None, Query(ge=1950, le=2100)] = None
) -> Response:
    """The latest season's calendar, or the one the calendar's picker asked for (a plain GET
    form: it works without script, and the page's CSP allows no inline handler)."""
    if season is not None:
        return RedirectResponse(f"/season/{season}", status_code=302)
    with Session(_engine(request)) as session:
        try:
            latest = racing.season_or_latest(session, None)
        except racing.NoRaces:
            raise HTTPException(
                404, "the warehouse holds no races yet: run `f1 ingest snapshot`"
            ) from None
    return RedirectResponse(f"/season/{latest}", status_code=302)


@router.get("/races/{season}/{round}", response_class=HTMLResponse)
def race_page(request: Request, claims: Claims, season: Season, round: Round) -> HTMLResponse:  # noqa: A002
    """Every entrant's probabilities at each known stage (bars, and the markets' podium,
    points and position heat map), the grid, the result and a what-if form."""
    engine = _engine(request)
    detail = _race_detail(engine, season, round)
    if detail is None:
        raise HTTPException(404, f"no race {season} round {round} in the warehouse")
    stages = {
        stage: prediction(request, season, round, stage, claims, markets=True)
        for stage in stages_known(engine, season, round)
    }
    known = [stage for stage, answer in stages.items() if answer is not None]
    explained = (
        prediction(request, season, round, known[-1], claims, explain=True) if known else None
    )
    latest = next((a for a in reversed(list(stages.values())) if a is not None), None)
    heatmap = (
        charts.position_heatmap(latest["predictions"], "P(finishing place), latest stage")
        if latest is not None and latest["predictions"] and latest["predictions"][0].get("markets")
        else None
    )
    grid = _qualifying(engine, season, round)
    entrants = latest["predictions"] if latest else []
    slots = {g["driver_id"]: g["position"] for g in grid}
    what_if = sorted(
        ({"driver_id": e["driver_id"], "driver_name": e["driver_name"],
          "slot": slots.get(e["driver_id"])} for e in entrants),
        key=lambda e: (e["slot"] is None, e["slot"] or 0, e["driver_name"]),
    )  # fmt: skip
    for i, entry in enumerate(what_if, start=1):
        entry["slot"] = i
    return render(
        request,
        "race.html",
        {
            "race": detail,
            "stages": stages,
            "latest_stage": (known or list(stages))[-1] if (known or stages) else None,
            "charts": _stage_charts(stages),
            "heatmap": heatmap,
            "grid": grid,
            "what_if": what_if,
            "explained": explained
            if explained
            and explained["predictions"]
            and explained["predictions"][0].get("explanation")
            else None,
        },
        claims,
    )


@router.post("/races/{season}/{round}/what-if", response_class=HTMLResponse)
def what_if(  # noqa: A002
    request: Request, claims: Claims, form: PostedForm, season: Season, round: Round
) -> HTMLResponse:
    """The race's probabilities with the grid chosen in the form (an htmx fragment)."""
    slots: list[tuple[str, int]] = []
    problems: list[str] = []
    for key, value in form.multi_items():
        if not key.startswith("slot-"):
            continue
        driver = key.removeprefix("slot-")
        if not str(value).strip():  # a slot left empty: the driver does not start
            continue
        try:
            slots.append((driver, int(str(value))))
        except ValueError:
            problems.append(f"{driver}: the grid slot must be a number, not {value!r}")
    problems += [p.message for p in grid_problems(slots)]
    grid = dict(slots)
    answer = None
    if not problems:
        served = choose(request, GRID_STAGE, claims)
        try:
            forecast = forecast_race(_engine(request), season, round, GRID_STAGE, served, grid=grid)
            answer = PredictionOut.model_validate(forecast.card(_engine(request))).model_dump()
        except (NoEntrants, UnknownEntrant) as error:
            problems.append(str(error))
    chart = charts.probability_bars(answer["predictions"], "P(win), what if") if answer else None
    return render(
        request,
        "_what_if.html",
        {"answer": answer, "chart": chart, "problems": problems},
        claims,
        status=200 if not problems else 422,
    )


@router.get("/drivers/{driver_id}", response_class=HTMLResponse)
def driver_page(request: Request, claims: Claims, driver_id: str) -> HTMLResponse:
    """A driver: career figures, ELO over the career, recent results, teammates compared."""
    engine = _engine(request)
    with Session(engine) as session:
        detail = racing.driver_detail(session, platform_of(request).ratings, driver_id)
        me = racing.driver(session, driver_id)
        if detail is None or me is None:
            raise HTTPException(404, f"no driver {driver_id!r} in the warehouse")
        results = racing_history.recent_results(session, me.id)
        rivals = racing_history.teammates(session, me.id)
    history = racing_history.elo_history(_engine(request), "driver", driver_id)
    chart = charts.rating_line(history, f"{detail.name}: ELO before each race") if history else None
    return render(
        request,
        "driver.html",
        {
            "driver": detail,
            "results": results,
            "teammates": rivals,
            "chart": chart,
            "history": history,
        },
        claims,
    )


NOT_PAGES = ("/api/", "/static/", "/health", "/ready", "/metrics", "/openapi.json")


def is_page(request: Request) -> bool:
    """Whether the request is for a page of the web app (its errors are pages too)."""
    return not request.url.path.startswith(NOT_PAGES)


def page_error(request: Request, status: int, detail: str) -> HTMLResponse:
    """The error as a page; to an htmx request, as the fragment it swaps in."""
    template = "_error.html" if request.headers.get("hx-request") else "error.html"
    return render(request, template, {"status": status, "detail": detail}, None, status=status)
