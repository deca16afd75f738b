"""The racing resources as the API answers them and the web pages show them (read and shaped
in serving/racing.py)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


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
