"""Championship odds: drivers' and constructors' P(title) and expected final points after
each round of a season, as `f1_score` stored them after each race (pipelines/markets.py;
`f1 championship SEASON --store` stores them by hand)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from serving import odds
from serving.deps import SessionDep, SessionRoute
from serving.odds import ChampionshipOut

router = APIRouter(route_class=SessionRoute, prefix="/championship", tags=["predictions"])


@router.get("/{season}", responses={404: {"description": "no odds stored for the season"}})
def championship(
    session: SessionDep,
    season: Annotated[int, Path(ge=1950, le=2100)],
    after_round: Annotated[
        int | None,
        Query(ge=0, le=40, description="only the odds after this round (default: every round)"),
    ] = None,
) -> ChampionshipOut:
    """Drivers' and constructors' title odds after each round of the season, the most likely
    champion first."""
    found = odds.championship(session, season, after_round)
    if found is None:
        raise HTTPException(404, odds.missing(season, after_round))
    return found
