"""The stored championship odds, read and shaped as the API answers them and the web page
shows them: drivers' and constructors' P(title) after each round of a season."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from warehouse.schema import ChampionshipOdds, Driver, Team


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


def missing(season: int, after_round: int | None = None) -> str:
    """What to say when no odds of `season` (after `after_round`) are stored."""
    which = f" after round {after_round}" if after_round is not None else ""
    return (
        f"no championship odds are stored for {season}{which}: the f1_score DAG stores "
        f"them after each race; `f1 championship {season} --store` stores them now"
    )


def championship(
    session: Session, season: int, after_round: int | None = None
) -> ChampionshipOut | None:
    """The odds after each stored round of `season` (only `after_round` when given), the most
    likely champion first; None when none are stored."""
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
        return None
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
