"""The F1 data: races, calendar, results, drivers, teams, circuits, rankings by ELO. What each
answer holds is read and shaped in serving/racing.py, which the web pages share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query

from serving import racing
from serving.deps import PlatformDep, SessionDep, SessionRoute
from serving.racing_models import (
    CalendarEntry,
    CircuitOut,
    DriverDetail,
    DriverOut,
    RaceDetail,
    RaceOut,
    RankingOut,
    TeamOut,
)

router = APIRouter(route_class=SessionRoute, tags=["data"])
Season = Annotated[int | None, Query(ge=1950, le=2100, description="default: the latest")]
_T = TypeVar("_T")


def _found(read: Callable[[], _T]) -> _T:
    """`read()`, a 404 when the warehouse holds no races yet."""
    try:
        return read()
    except racing.NoRaces as error:
        raise HTTPException(404, str(error)) from None


@router.get("/races")
def races(session: SessionDep, season: Season = None) -> list[RaceOut]:
    """The races of a season."""
    return [RaceOut(**e.model_dump()) for e in _found(lambda: racing.calendar(session, season))]


@router.get("/races/calendar")
def calendar(session: SessionDep, season: Season = None) -> list[CalendarEntry]:
    """A season's calendar with qualifying and sprint dates and whether each race is done."""
    return _found(lambda: racing.calendar(session, season))


@router.get("/races/{season}/{round}", responses={404: {"description": "no such race"}})
def race(
    session: SessionDep,
    season: Annotated[int, Path(ge=1950, le=2100)],
    round: Annotated[int, Path(ge=1, le=2**31 - 1)],  # noqa: A002 (the API's word)
) -> RaceDetail:
    """One race, with its results once it has run."""
    found = racing.race_detail(session, season, round)
    if found is None:
        raise HTTPException(404, f"no race {season} round {round}")
    return found


@router.get("/drivers")
def drivers(platform: PlatformDep, session: SessionDep, season: Season = None) -> list[DriverOut]:
    """The drivers who took part in a season, with their current ELO."""
    return _found(lambda: racing.driver_list(session, platform.ratings, season))


@router.get("/drivers/{driver_id}", responses={404: {"description": "no such driver"}})
def driver(platform: PlatformDep, session: SessionDep, driver_id: str) -> DriverDetail:
    """One driver: identity, current ELO and career figures."""
    found = racing.driver_detail(session, platform.ratings, driver_id)
    if found is None:
        raise HTTPException(404, f"no driver {driver_id!r}")
    return found


@router.get("/teams")
def teams(platform: PlatformDep, session: SessionDep, season: Season = None) -> list[TeamOut]:
    """The teams of a season, with their current ELO."""
    return _found(lambda: racing.team_list(session, platform.ratings, season))


@router.get("/circuits")
def circuits(session: SessionDep) -> list[CircuitOut]:
    """Every circuit, with how many championship races it held."""
    return racing.circuit_list(session)


@router.get("/analytics/driver-rankings")
def driver_rankings(
    platform: PlatformDep,
    session: SessionDep,
    season: Season = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[RankingOut]:
    """A season's drivers ranked by current ELO, with their championship points (latest
    official table of that season, sprints included) and race wins."""
    return _found(lambda: racing.rankings(session, platform.ratings, season, limit))
