"""Championship odds: drivers' and constructors' P(title) and expected final points after
each round of a season, as `f1_score` stored them after each race (pipelines/markets.py;
`f1 championship SEASON --store` stores them by hand)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from serving.deps import SessionDep, SessionRoute
from warehouse.schema import ChampionshipOdds, Driver, Team

router = APIRouter(route_class=SessionRoute, prefix="/championship", tags=["predictions"])


class Contender(BaseModel):
    id: str = Field(description="the driver's or team's Ergast id")
    name: str
    points: float = Field(description="points after the round")
    p_title: float
    expected_points: float = Field(description="expected points at the end of the season")


class RoundOdds(BaseModel):
    after_round: int = Field(description="0: before the season's first race")
    computed_at: dt.datetime
    seasons: int = Field(description="simulated seasons")
    winner_model: str = Field(description="name@version of the pre-qualifying winner model")
    order_model: str
    drivers: list[Contender]
    constructors: list[Contender]


class ChampionshipOut(BaseModel):
    season: int
    rounds: list[RoundOdds] = Field(description="the odds after each stored round, in order")


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
    query = select(ChampionshipOdds).where(ChampionshipOdds.season == season)
    if after_round is not None:
        query = query.where(ChampionshipOdds.after_round == after_round)
    rows = session.scalars(
        query.order_by(
            ChampionshipOdds.after_round,
            ChampionshipOdds.p_title.desc(),
            ChampionshipOdds.expected_points.desc(),
        )
    ).all()
    if not rows:
        which = f" after round {after_round}" if after_round is not None else ""
        raise HTTPException(
            404,
            f"no championship odds are stored for {season}{which}: the f1_score DAG stores "
            f"them after each race; `f1 championship {season} --store` stores them now",
        )
    refs = {kind: {r.ref for r in rows if r.kind == kind} for kind in ("driver", "constructor")}
    names = {
        "driver": dict(
            session.execute(
                select(Driver.ref, Driver.forename + " " + Driver.surname).where(
                    Driver.ref.in_(refs["driver"])
                )
            )
            .tuples()
            .all()
        ),
        "constructor": dict(
            session.execute(select(Team.ref, Team.name).where(Team.ref.in_(refs["constructor"])))
            .tuples()
            .all()
        ),
    }
    rounds: dict[int, RoundOdds] = {}
    for row in rows:
        odds = rounds.get(row.after_round)
        if odds is None:
            odds = rounds[row.after_round] = RoundOdds(
                after_round=row.after_round,
                computed_at=row.computed_at,
                seasons=row.seasons,
                winner_model=row.winner_model,
                order_model=row.order_model,
                drivers=[],
                constructors=[],
            )
        entry = Contender(
            id=row.ref,
            name=names[row.kind].get(row.ref, row.ref),
            points=row.points,
            p_title=row.p_title,
            expected_points=row.expected_points,
        )
        (odds.drivers if row.kind == "driver" else odds.constructors).append(entry)
    return ChampionshipOut(season=season, rounds=list(rounds.values()))
