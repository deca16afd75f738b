"""The racing history the web pages show beside the API's resources: qualifying orders, the
latest race with a result, a driver's recent results and teammates, a team's seasons and
drivers, every race's date, the ELO a driver or team carried into each race."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, Integer, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from spec import STAGES
from warehouse.schema import Driver, QualifyingResult, Race, RaceResult, Team


def seasons(session: Session, newest_first: bool = False) -> list[int]:
    """Every season with a race."""
    order = Race.season.desc() if newest_first else Race.season
    return list(session.scalars(select(Race.season).distinct().order_by(order)))


def qualifying(session: Session, season: int, round_: int) -> list[dict[str, Any]]:
    """A race's qualifying order: position, driver and team."""
    rows = session.execute(
        select(QualifyingResult.position, Driver.ref, Driver.forename, Driver.surname, Team.name)
        .join(Race, Race.id == QualifyingResult.race_id)
        .join(Driver, Driver.id == QualifyingResult.driver_id)
        .join(Team, Team.id == QualifyingResult.team_id)
        .where(Race.season == season, Race.round == round_)
        .order_by(QualifyingResult.position)
    ).all()
    return [
        {"position": p, "driver_id": ref, "driver_name": f"{f} {s}", "team": team}
        for p, ref, f, s, team in rows
    ]


def last_with_results(session: Session) -> tuple[int, int] | None:
    """(season, round) of the latest race whose results are stored."""
    last = session.execute(
        select(Race.season, Race.round)
        .where(exists().where(RaceResult.race_id == Race.id))
        .order_by(Race.season.desc(), Race.round.desc())
        .limit(1)
    ).first()
    return None if last is None else (int(last.season), int(last.round))


def qualified_rounds(session: Session, season: int) -> set[int]:
    """The rounds of `season` whose qualifying is stored."""
    return set(
        session.scalars(
            select(Race.round)
            .where(Race.season == season)
            .where(exists().where(QualifyingResult.race_id == Race.id))
        )
    )


def recent_results(session: Session, driver_id: int, limit: int = 20) -> list[Any]:
    """A driver's latest results: season, round, race, team, grid, position, points."""
    return list(
        session.execute(
            select(Race.season, Race.round, Race.name, Team.name, RaceResult.grid,
                   RaceResult.position_text, RaceResult.points)
            .join(Race, Race.id == RaceResult.race_id)
            .join(Team, Team.id == RaceResult.team_id)
            .where(RaceResult.driver_id == driver_id)
            .order_by(Race.season.desc(), Race.round.desc())
            .limit(limit)
        ).all()
    )  # fmt: skip


def teammates(session: Session, driver_id: int) -> list[dict[str, Any]]:
    """Per season and teammate: races together and how often the driver finished ahead."""
    mate = aliased(RaceResult)
    rows = session.execute(
        select(
            Race.season,
            Driver.ref,
            Driver.forename,
            Driver.surname,
            func.count(),
            func.sum((RaceResult.position_order < mate.position_order).cast(Integer)),
        )
        # the teammates' rows among this driver's races (said twice: SQLite would otherwise
        # walk every result of the team, 79 ms for Hamilton against 2.4 ms)
        .join(mate, and_(mate.race_id == RaceResult.race_id, mate.team_id == RaceResult.team_id,
                         mate.driver_id != RaceResult.driver_id,
                         mate.race_id.in_(select(RaceResult.race_id)
                                          .where(RaceResult.driver_id == driver_id))))
        .join(Race, Race.id == RaceResult.race_id)
        .join(Driver, Driver.id == mate.driver_id)
        .where(RaceResult.driver_id == driver_id)
        .group_by(Race.season, Driver.ref, Driver.forename, Driver.surname)
        .order_by(Race.season.desc(), func.count().desc())
    ).all()  # fmt: skip
    return [
        {
            "season": s,
            "driver_id": ref,
            "name": f"{f} {n}",
            "races": races,
            "ahead": int(ahead or 0),
        }
        for s, ref, f, n, races, ahead in rows
    ]


def race_dates(session: Session) -> dict[tuple[int, int], tuple[dt.date, str]]:
    """(season, round) -> (date, name) of every race."""
    return {
        (s, r): (d, name)
        for s, r, d, name in session.execute(select(Race.season, Race.round, Race.date, Race.name))
    }


def team(session: Session, ref: str) -> Team | None:
    found: Team | None = session.scalar(select(Team).where(Team.ref == ref))
    return found


def team_seasons(session: Session, team_id: int) -> list[Any]:
    """Per season of a team, newest first: races, wins, podiums, race points."""
    return list(
        session.execute(
            select(
                Race.season,
                func.count(func.distinct(Race.id)),
                func.count().filter(RaceResult.position == 1),
                func.count().filter(RaceResult.position <= 3),
                func.sum(RaceResult.points),
            )
            .select_from(RaceResult)
            .join(Race, Race.id == RaceResult.race_id)
            .where(RaceResult.team_id == team_id)
            .group_by(Race.season)
            .order_by(Race.season.desc())
        ).all()
    )


def team_drivers(session: Session, team_id: int) -> dict[int, list[dict[str, Any]]]:
    """Per season of a team: its drivers, most races first."""
    rows = session.execute(
        select(Race.season, Driver.ref, Driver.forename, Driver.surname, func.count())
        .select_from(RaceResult)
        .join(Race, Race.id == RaceResult.race_id)
        .join(Driver, Driver.id == RaceResult.driver_id)
        .where(RaceResult.team_id == team_id)
        .group_by(Race.season, Driver.ref, Driver.forename, Driver.surname)
        .order_by(Race.season.desc(), func.count().desc())
    ).all()
    by_season: dict[int, list[dict[str, Any]]] = {}
    for season, ref, forename, surname, races_ in rows:
        by_season.setdefault(season, []).append(
            {"driver_id": ref, "name": f"{forename} {surname}", "races": races_}
        )
    return by_season


def elo_history(engine: Engine, kind: str, ref: str) -> list[dict[str, Any]]:
    """The ELO a driver or team carried into each of its races, from the published build (one
    point per race; a team's is the same for both its cars)."""
    from feature_store.online import published
    from feature_store.store import Manifest, store_root

    root = store_root()
    manifest = Manifest.read(root)
    if manifest is None:
        return []
    held = published(root, manifest)
    series = held.series(STAGES[0].name, f"{kind}_ref", ref, f"{kind}_elo")
    if not series:
        return []
    with Session(engine) as session:
        dates = race_dates(session)
    return [
        {"date": dates[(s, r)][0].isoformat(), "race": f"{s} {dates[(s, r)][1]}", "elo": elo}
        for s, r, elo in series
        if (s, r) in dates and elo == elo  # NaN: no rating yet
    ]
