"""The F1 data: races, calendar, results, drivers, teams, circuits, rankings by ELO."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, exists, func, select

from feature_store.frames import load_frames
from feature_store.ratings import current_ratings
from serving.deps import SessionDep, SessionRoute
from warehouse.schema import Circuit, Driver, DriverStanding, Race, RaceResult, Team

router = APIRouter(route_class=SessionRoute, tags=["data"])
Season = Annotated[int | None, Query(ge=1950, le=2100, description="default: the latest")]


class RaceOut(BaseModel):
    season: int
    round: int
    name: str
    date: dt.date
    time: dt.time | None = Field(description="start time, UTC (RFC 3339: 15:00:00Z)")
    circuit_id: str
    circuit_name: str
    country: str | None
    has_results: bool


class CalendarEntry(RaceOut):
    qualifying_date: dt.date | None
    sprint_date: dt.date | None
    status: str  # "done" (results stored) or "upcoming"


class ResultOut(BaseModel):
    position: int | None
    position_text: str
    driver_id: str
    driver_name: str
    team_id: str
    grid: int
    laps: int
    status: str
    points: float


class RaceDetail(RaceOut):
    results: list[ResultOut]


class DriverOut(BaseModel):
    driver_id: str
    name: str
    code: str | None
    number: int | None
    nationality: str | None
    elo: float | None


class DriverDetail(DriverOut):
    date_of_birth: dt.date | None
    starts: int
    wins: int
    podiums: int
    first_season: int | None
    last_season: int | None


class TeamOut(BaseModel):
    team_id: str
    name: str
    nationality: str | None
    elo: float | None


class CircuitOut(BaseModel):
    circuit_id: str
    name: str
    locality: str | None
    country: str | None
    lat: float | None
    lng: float | None
    races: int


class RankingOut(BaseModel):
    rank: int
    driver_id: str
    name: str
    elo: float
    season_points: float
    season_wins: int


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


def _season(session: SessionDep, season: int | None) -> int:
    if season is not None:
        return season
    latest = session.scalar(select(func.max(Race.season)))
    if latest is None:
        raise HTTPException(404, "the warehouse holds no races yet")
    return int(latest)


def _races(session: SessionDep, *where: Any) -> list[dict[str, Any]]:
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


@router.get("/races")
def races(session: SessionDep, season: Season = None) -> list[RaceOut]:
    """The races of a season."""
    return [RaceOut(**r) for r in _races(session, Race.season == _season(session, season))]


@router.get("/races/calendar")
def calendar(session: SessionDep, season: Season = None) -> list[CalendarEntry]:
    """A season's calendar with qualifying and sprint dates and whether each race is done."""
    return [CalendarEntry(**r) for r in _races(session, Race.season == _season(session, season))]


@router.get("/races/{season}/{round}", responses={404: {"description": "no such race"}})
def race(
    session: SessionDep,
    season: Annotated[int, Path(ge=1950, le=2100)],
    round: Annotated[int, Path(ge=1, le=2**31 - 1)],  # noqa: A002 (the API's word)
) -> RaceDetail:
    """One race, with its results once it has run."""
    found = _races(session, Race.season == season, Race.round == round)
    if not found:
        raise HTTPException(404, f"no race {season} round {round}")
    results = session.execute(
        select(RaceResult, Driver, Team)
        .join(Race, Race.id == RaceResult.race_id)
        .join(Driver, Driver.id == RaceResult.driver_id)
        .join(Team, Team.id == RaceResult.team_id)
        .where(Race.season == season, Race.round == round)
        .order_by(RaceResult.position_order)
    ).all()
    return RaceDetail(
        **found[0],
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
            for r, d, t in results
        ],
    )


def _ratings(request: Request, session: SessionDep) -> dict[str, dict[int, float]]:
    ratings: Ratings = request.app.state.ratings
    return ratings.get(session.get_bind())  # type: ignore[arg-type]


@router.get("/drivers")
def drivers(request: Request, session: SessionDep, season: Season = None) -> list[DriverOut]:
    """The drivers who took part in a season, with their current ELO."""
    year = _season(session, season)
    elo = _ratings(request, session)["driver"]
    entered = select(RaceResult.driver_id).join(Race).where(Race.season == year)
    rows = session.scalars(
        select(Driver).where(Driver.id.in_(entered)).order_by(Driver.surname)
    ).all()
    return [_driver(d, elo) for d in rows]


def _driver(d: Driver, elo: dict[int, float]) -> DriverOut:
    rating = elo.get(d.id)
    return DriverOut(
        driver_id=d.ref,
        name=f"{d.forename} {d.surname}",
        code=d.code,
        number=d.number,
        nationality=d.nationality,
        elo=round(rating, 1) if rating is not None else None,
    )


@router.get("/drivers/{driver_id}", responses={404: {"description": "no such driver"}})
def driver(request: Request, session: SessionDep, driver_id: str) -> DriverDetail:
    """One driver: identity, current ELO and career figures."""
    found = session.scalar(select(Driver).where(Driver.ref == driver_id))
    if found is None:
        raise HTTPException(404, f"no driver {driver_id!r}")
    starts, wins, podiums, first, last = session.execute(
        select(
            func.count(RaceResult.id),
            func.count(RaceResult.id).filter(RaceResult.position == 1),
            func.count(RaceResult.id).filter(RaceResult.position <= 3),
            func.min(Race.season),
            func.max(Race.season),
        )
        .join(Race, Race.id == RaceResult.race_id)
        .where(RaceResult.driver_id == found.id)
    ).one()
    base = _driver(found, _ratings(request, session)["driver"])
    return DriverDetail(
        **base.model_dump(),
        date_of_birth=found.dob,
        starts=starts,
        wins=wins,
        podiums=podiums,
        first_season=first,
        last_season=last,
    )


@router.get("/teams")
def teams(request: Request, session: SessionDep, season: Season = None) -> list[TeamOut]:
    """The teams of a season, with their current ELO."""
    year = _season(session, season)
    elo = _ratings(request, session)["team"]
    entered = select(RaceResult.team_id).join(Race).where(Race.season == year)
    rows = session.scalars(select(Team).where(Team.id.in_(entered)).order_by(Team.name)).all()
    return [
        TeamOut(
            team_id=t.ref,
            name=t.name,
            nationality=t.nationality,
            elo=round(elo[t.id], 1) if t.id in elo else None,
        )
        for t in rows
    ]


@router.get("/circuits")
def circuits(session: SessionDep) -> list[CircuitOut]:
    """Every circuit, with how many championship races it held."""
    rows = session.execute(
        select(Circuit, func.count(Race.id))
        .outerjoin(Race, Race.circuit_id == Circuit.id)
        .group_by(Circuit.id)
        .order_by(Circuit.name)
    ).all()
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
        for c, n in rows
    ]


@router.get("/analytics/driver-rankings")
def driver_rankings(
    request: Request,
    session: SessionDep,
    season: Season = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[RankingOut]:
    """A season's drivers ranked by current ELO, with their championship points (latest
    official table of that season, sprints included) and race wins."""
    year = _season(session, season)
    elo = _ratings(request, session)["driver"]
    rows = session.execute(
        select(Driver, func.count(RaceResult.id).filter(RaceResult.position == 1))
        .join(RaceResult, RaceResult.driver_id == Driver.id)
        .join(Race, Race.id == RaceResult.race_id)
        .where(Race.season == year)
        .group_by(Driver.id)
    ).all()
    last_table = (
        select(Race.id)
        .join(DriverStanding, DriverStanding.race_id == Race.id)
        .where(Race.season == year)
        .order_by(Race.round.desc())
        .limit(1)
        .scalar_subquery()
    )
    table = dict(
        session.execute(
            select(DriverStanding.driver_id, DriverStanding.points).where(
                DriverStanding.race_id == last_table
            )
        )
        .tuples()
        .all()
    )
    ranked = sorted(
        ((d, table.get(d.id, 0.0), wins) for d, wins in rows if d.id in elo),
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
