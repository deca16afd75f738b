"""The racing reads the API's routes and the web's pages share: seasons, races, results,
drivers, teams, circuits and the current ratings. Every query of the racing domain that the
service makes is here; routes and pages shape what these return and never query themselves."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import Engine, exists, func, select
from sqlalchemy.orm import Session

from feature_store.frames import load_frames
from feature_store.ratings import current_ratings
from serving.racing_models import (
    CalendarEntry,
    CircuitOut,
    DriverDetail,
    DriverOut,
    RaceDetail,
    RankingOut,
    ResultOut,
    TeamOut,
)
from warehouse.schema import (
    Circuit,
    Driver,
    DriverStanding,
    Race,
    RaceResult,
    Team,
)


class NoRaces(LookupError):
    """The warehouse holds no races yet."""


class Ratings:
    """Current ELO of every driver and team, recomputed when the stored results change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: dict[str, dict[int, float]] = {"driver": {}, "team": {}}

    def get(self, engine: Engine) -> dict[str, dict[int, float]]:
        with engine.connect() as connection:
            key = tuple(
                connection.execute(
                    select(func.count(RaceResult.id), func.max(RaceResult.race_id))
                ).one()
            )
        with self._lock:
            if key != self._key:
                self._value, self._key = current_ratings(load_frames(engine)), key
            return self._value

    def of(self, session: Session) -> dict[str, dict[int, float]]:
        """The ratings, read through the engine `session` is bound to."""
        return self.get(session.get_bind())  # type: ignore[arg-type]


def season_or_latest(session: Session, season: int | None) -> int:
    """`season`, or the latest season with a race (NoRaces when there is none)."""
    if season is not None:
        return season
    latest = session.scalar(select(func.max(Race.season)))
    if latest is None:
        raise NoRaces("the warehouse holds no races yet")
    return int(latest)


def races(session: Session, *where: Any) -> list[dict[str, Any]]:
    """The races matching `where` (SQLAlchemy conditions on Race), in order, with their
    circuit and whether results are stored."""
    has_results = exists().where(RaceResult.race_id == Race.id)
    rows = session.execute(
        select(Race, Circuit, has_results.label("has_results"))
        .join(Circuit, Circuit.id == Race.circuit_id)
        .where(*where)
        .order_by(Race.season, Race.round)
    ).all()
    return [
        {
            "season": race.season,
            "round": race.round,
            "name": race.name,
            "date": race.date,
            "time": race.time.replace(tzinfo=dt.UTC) if race.time else None,  # Ergast: UTC
            "circuit_id": circuit.ref,
            "circuit_name": circuit.name,
            "country": circuit.country,
            "has_results": bool(done),
            "qualifying_date": race.quali_date,
            "sprint_date": race.sprint_date,
            "status": "done" if done else "upcoming",
        }
        for race, circuit, done in rows
    ]


def season_races(session: Session, season: int) -> list[dict[str, Any]]:
    return races(session, Race.season == season)


def race(session: Session, season: int, round_: int) -> dict[str, Any] | None:
    found = races(session, Race.season == season, Race.round == round_)
    return found[0] if found else None


def results(session: Session, season: int, round_: int) -> list[tuple[RaceResult, Driver, Team]]:
    """A race's result rows with their driver and team, in finishing order."""
    rows = session.execute(
        select(RaceResult, Driver, Team)
        .join(Race, Race.id == RaceResult.race_id)
        .join(Driver, Driver.id == RaceResult.driver_id)
        .join(Team, Team.id == RaceResult.team_id)
        .where(Race.season == season, Race.round == round_)
        .order_by(RaceResult.position_order)
    ).all()
    return [(r, d, t) for r, d, t in rows]


def season_drivers(session: Session, season: int) -> list[Driver]:
    """The drivers who took part in a season, by surname."""
    entered = select(RaceResult.driver_id).join(Race).where(Race.season == season)
    return list(
        session.scalars(select(Driver).where(Driver.id.in_(entered)).order_by(Driver.surname))
    )


def driver(session: Session, ref: str) -> Driver | None:
    found: Driver | None = session.scalar(select(Driver).where(Driver.ref == ref))
    return found


def career(session: Session, driver_id: int) -> tuple[int, int, int, int | None, int | None]:
    """(starts, wins, podiums, first season, last season) of a driver."""
    starts, wins, podiums, first, last = session.execute(
        select(
            func.count(RaceResult.id),
            func.count(RaceResult.id).filter(RaceResult.position == 1),
            func.count(RaceResult.id).filter(RaceResult.position <= 3),
            func.min(Race.season),
            func.max(Race.season),
        )
        .join(Race, Race.id == RaceResult.race_id)
        .where(RaceResult.driver_id == driver_id)
    ).one()
    return starts, wins, podiums, first, last


def season_teams(session: Session, season: int) -> list[Team]:
    """The teams of a season, by name."""
    entered = select(RaceResult.team_id).join(Race).where(Race.season == season)
    return list(session.scalars(select(Team).where(Team.id.in_(entered)).order_by(Team.name)))


def circuits(session: Session) -> list[tuple[Circuit, int]]:
    """Every circuit with how many championship races it held, by name."""
    rows = session.execute(
        select(Circuit, func.count(Race.id))
        .outerjoin(Race, Race.circuit_id == Circuit.id)
        .group_by(Circuit.id)
        .order_by(Circuit.name)
    ).all()
    return [(c, int(n)) for c, n in rows]


def season_wins(session: Session, season: int) -> list[tuple[Driver, int]]:
    """Each driver who raced in `season` with the races they won in it."""
    rows = session.execute(
        select(Driver, func.count(RaceResult.id).filter(RaceResult.position == 1))
        .join(RaceResult, RaceResult.driver_id == Driver.id)
        .join(Race, Race.id == RaceResult.race_id)
        .where(Race.season == season)
        .group_by(Driver.id)
    ).all()
    return [(d, int(wins)) for d, wins in rows]


def latest_driver_table(session: Session, season: int) -> dict[int, float]:
    """Driver id -> points in the season's latest official standings (sprints included)."""
    last_table = (
        select(Race.id)
        .join(DriverStanding, DriverStanding.race_id == Race.id)
        .where(Race.season == season)
        .order_by(Race.round.desc())
        .limit(1)
        .scalar_subquery()
    )
    return dict(
        session.execute(
            select(DriverStanding.driver_id, DriverStanding.points).where(
                DriverStanding.race_id == last_table
            )
        )
        .tuples()
        .all()
    )


# shaped as the API answers them and the pages show them


def race_detail(session: Session, season: int, round_: int) -> RaceDetail | None:
    """One race with its results once it has run (None: no such race)."""
    found = race(session, season, round_)
    if found is None:
        return None
    return RaceDetail(
        **found,
        results=[
            ResultOut(
                position=r.position,
                position_text=r.position_text,
                driver_id=d.ref,
                driver_name=f"{d.forename} {d.surname}",
                team_id=t.ref,
                grid=r.grid,
                laps=r.laps,
                status=r.status,
                points=r.points,
            )
            for r, d, t in results(session, season, round_)
        ],
    )


def calendar(session: Session, season: int | None) -> list[CalendarEntry]:
    """A season's calendar (default: the latest) with whether each race is done."""
    return [CalendarEntry(**r) for r in season_races(session, season_or_latest(session, season))]


def driver_out(d: Driver, elo: dict[int, float]) -> DriverOut:
    rating = elo.get(d.id)
    return DriverOut(
        driver_id=d.ref,
        name=f"{d.forename} {d.surname}",
        code=d.code,
        number=d.number,
        nationality=d.nationality,
        elo=round(rating, 1) if rating is not None else None,
    )


def driver_list(session: Session, ratings: Ratings, season: int | None) -> list[DriverOut]:
    elo = ratings.of(session)["driver"]
    year = season_or_latest(session, season)
    return [driver_out(d, elo) for d in season_drivers(session, year)]


def driver_detail(session: Session, ratings: Ratings, ref: str) -> DriverDetail | None:
    """One driver: identity, current ELO and career figures (None: no such driver)."""
    found = driver(session, ref)
    if found is None:
        return None
    starts, wins, podiums, first, last = career(session, found.id)
    base = driver_out(found, ratings.of(session)["driver"])
    return DriverDetail(
        **base.model_dump(),
        date_of_birth=found.dob,
        starts=starts,
        wins=wins,
        podiums=podiums,
        first_season=first,
        last_season=last,
    )


def team_list(session: Session, ratings: Ratings, season: int | None) -> list[TeamOut]:
    """The teams of a season (default: the latest), with their current ELO."""
    year = season_or_latest(session, season)
    elo = ratings.of(session)["team"]
    return [
        TeamOut(
            team_id=t.ref,
            name=t.name,
            nationality=t.nationality,
            elo=round(elo[t.id], 1) if t.id in elo else None,
        )
        for t in season_teams(session, year)
    ]


def circuit_list(session: Session) -> list[CircuitOut]:
    return [
        CircuitOut(
            circuit_id=c.ref,
            name=c.name,
            locality=c.locality,
            country=c.country,
            lat=c.lat,
            lng=c.lng,
            races=n,
        )
        for c, n in circuits(session)
    ]


def rankings(
    session: Session, ratings: Ratings, season: int | None, limit: int
) -> list[RankingOut]:
    """A season's drivers ranked by current ELO, with their championship points (latest
    official table of that season, sprints included) and race wins."""
    year = season_or_latest(session, season)
    elo = ratings.of(session)["driver"]
    table = latest_driver_table(session, year)
    ranked = sorted(
        ((d, table.get(d.id, 0.0), wins) for d, wins in season_wins(session, year) if d.id in elo),
        key=lambda r: -elo[r[0].id],
    )[:limit]
    return [
        RankingOut(
            rank=i,
            driver_id=d.ref,
            name=f"{d.forename} {d.surname}",
            elo=round(elo[d.id], 1),
            season_points=float(points),
            season_wins=wins,
        )
        for i, (d, points, wins) in enumerate(ranked, start=1)
    ]
