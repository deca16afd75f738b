"""Reads of the warehouse shared by the API and the web pages (no FastAPI here): the team
names, a team's points per season, the latest season with title odds, races by id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from warehouse.schema import ChampionshipOdds, Race, SprintResult, Team


def team_names(connection: Connection | Session) -> dict[str, str]:
    """Every team's name by its id: `red_bull` → Red Bull."""
    return {str(r.ref): str(r.name) for r in connection.execute(select(Team.ref, Team.name))}


def sprint_points(session: Session, team_id: int) -> dict[int, float]:
    """The team's sprint points per season (a season's points are its races' and these, as
    the standings count them)."""
    rows = session.execute(
        select(Race.season, func.sum(SprintResult.points).label("points"))
        .select_from(SprintResult)
        .join(Race, Race.id == SprintResult.race_id)
        .where(SprintResult.team_id == team_id)
        .group_by(Race.season)
    )
    return {int(r.season): float(r.points or 0) for r in rows}


def latest_odds_season(session: Session) -> int | None:
    """The latest season with stored championship odds, else the latest season held."""
    season = session.scalar(select(func.max(ChampionshipOdds.season)))
    return season if season is not None else session.scalar(select(func.max(Race.season)))


def races_by_id(session: Session, ids: list[int]) -> dict[int, tuple[str, dt.date]]:
    """(name, date) of each race in `ids`."""
    rows = session.execute(select(Race.id, Race.name, Race.date).where(Race.id.in_(ids)))
    return {int(race_id): (name, date) for race_id, name, date in rows}
