"""Teams, the ELO rankings and the championship odds in the browser."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from serving import odds, racing, racing_history
from serving.deps import platform_of
from serving.web import charts
from serving.web.session import render, web_claims
from warehouse.queries import latest_odds_season, sprint_points

router = APIRouter(include_in_schema=False)
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]
SeasonQuery = Annotated[int | None, Query(ge=1950, le=2100)]


@router.get("/teams/{team_id}", response_class=HTMLResponse)
def team_page(request: Request, claims: Claims, team_id: str) -> HTMLResponse:
    """A team: its ELO over time, its drivers per season, its results."""
    engine = platform_of(request).engine
    with Session(engine) as session:
        team = racing_history.team(session, team_id)
        if team is None:
            raise HTTPException(404, f"no team {team_id!r} in the warehouse")
        seasons = racing_history.team_seasons(session, team.id)
        sprints = sprint_points(session, team.id)
        by_season = racing_history.team_drivers(session, team.id)
        elo = platform_of(request).ratings.of(session)["team"].get(team.id)
    seen: set[str] = set()
    history = []
    for point in racing_history.elo_history(
        engine, "team", team_id
    ):  # two cars, one rating per race
        if point["race"] not in seen:
            seen.add(point["race"])
            history.append(point)
    chart = charts.rating_line(history, f"{team.name}: ELO before each race") if history else None
    return render(
        request,
        "team.html",
        {
            "team": team,
            "elo": elo,
            "seasons": [
                {
                    "season": s,
                    "races": n,
                    "wins": w,
                    "podiums": p,
                    "points": float(pts or 0) + float(sprints.get(s) or 0),
                    "drivers": by_season.get(s, []),
                }
                for s, n, w, p, pts in seasons
            ],  # fmt: skip
            "chart": chart,
            "history": history,
        },
        claims,
    )


@router.get("/rankings", response_class=HTMLResponse)
def rankings(request: Request, claims: Claims, season: SeasonQuery = None) -> HTMLResponse:
    """A season's drivers and teams by current ELO, with their points and wins."""
    with Session(platform_of(request).engine) as session:
        ratings = platform_of(request).ratings
        try:
            ranked = racing.rankings(session, ratings, season, limit=100)
            teams = sorted(racing.team_list(session, ratings, season), key=lambda t: -(t.elo or 0))
            year = racing.season_or_latest(session, season)
        except racing.NoRaces:
            raise HTTPException(404, f"no races of {season} in the warehouse") from None
        seasons = racing_history.seasons(session, newest_first=True)
    return render(
        request,
        "rankings.html",
        {"ranked": ranked, "teams": teams, "season": year, "seasons": seasons},
        claims,
    )


@router.get("/championship")
def championship_latest(request: Request) -> RedirectResponse:
    """The latest season with stored odds (else the latest season held)."""
    with Session(platform_of(request).engine) as session:
        season = latest_odds_season(session)
    if season is None:
        raise HTTPException(404, "the warehouse holds no season yet: `make up` loads 1950–2024")
    return RedirectResponse(f"/championship/{season}", status_code=303)


@router.get("/championship/{season}", response_class=HTMLResponse)
def championship(
    request: Request, claims: Claims, season: Annotated[int, Path(ge=1950, le=2100)]
) -> HTMLResponse:
    """The title odds after each stored round: the latest as a table, the drivers' P(title)
    round by round as a chart."""
    with Session(platform_of(request).engine) as session:
        stored = odds.championship(session, season)
    if stored is None:
        return render(
            request,
            "championship.html",
            {"season": season, "odds": None, "missing": odds.missing(season)},
            claims,
        )
    latest = stored.rounds[-1]
    leaders = {c.id for c in latest.drivers[:6]}
    points = [
        {"round": r.after_round, "driver": c.name, "p_title": c.p_title}
        for r in stored.rounds
        for c in r.drivers
        if c.id in leaders
    ]
    chart = charts.title_odds(points, f"{season}: P(title) after each round") if points else None
    return render(
        request,
        "championship.html",
        {"season": season, "odds": stored, "latest": latest, "chart": chart, "missing": None},
        claims,
    )
