"""The F1 history: circuits, teams, drivers, races and everything measured at a race.

Natural keys are the Jolpica/Ergast ids (`ref` columns) and (season, round); integer ids are
the warehouse's own. Nulls stay null: a retirement has no position but keeps its status text.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.base import Base


class Circuit(Base):
    """A circuit, keyed by its Ergast id (`silverstone`)."""

    __tablename__ = "circuits"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    locality: Mapped[str | None] = mapped_column(String(128))
    country: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    alt: Mapped[float | None] = mapped_column(Float)
    url: Mapped[str | None] = mapped_column(String(256))


class Team(Base):
    """A constructor, keyed by its Ergast id (`red_bull`)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    nationality: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(256))


class TeamLineage(Base):
    """A team that continues another's entry under a new name (Toro Rosso → AlphaTauri, Racing
    Point → Aston Martin): from `from_season` on, `team_ref`'s history starts with
    `predecessor_ref`'s. By refs, so a rename can be declared before the team's first race is
    in the warehouse. Declared in data/f1/team_lineage.csv and loaded with the snapshot."""

    __tablename__ = "team_lineage"
    __table_args__ = (
        UniqueConstraint("team_ref", "from_season"),
        CheckConstraint("team_ref <> predecessor_ref", name="not_its_own_predecessor"),
        CheckConstraint("from_season >= 1950", name="season_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_ref: Mapped[str] = mapped_column(String(64))
    from_season: Mapped[int]
    predecessor_ref: Mapped[str] = mapped_column(String(64))


class Driver(Base):
    """A driver, keyed by its Ergast id (`max_verstappen`)."""

    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[int | None]
    code: Mapped[str | None] = mapped_column(String(8))
    forename: Mapped[str] = mapped_column(String(64))
    surname: Mapped[str] = mapped_column(String(64))
    dob: Mapped[dt.date | None] = mapped_column(Date)
    nationality: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(256))


class Race(Base):
    """A World Championship race, keyed by (season, round); session times are UTC."""

    __tablename__ = "races"
    __table_args__ = (
        UniqueConstraint("season", "round"),
        CheckConstraint("round >= 1", name="round_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season: Mapped[int]
    round: Mapped[int]
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuits.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    date: Mapped[dt.date] = mapped_column(Date)
    time: Mapped[dt.time | None] = mapped_column(Time)
    url: Mapped[str | None] = mapped_column(String(256))
    fp1_date: Mapped[dt.date | None] = mapped_column(Date)
    fp1_time: Mapped[dt.time | None] = mapped_column(Time)
    fp2_date: Mapped[dt.date | None] = mapped_column(Date)
    fp2_time: Mapped[dt.time | None] = mapped_column(Time)
    fp3_date: Mapped[dt.date | None] = mapped_column(Date)
    fp3_time: Mapped[dt.time | None] = mapped_column(Time)
    quali_date: Mapped[dt.date | None] = mapped_column(Date)
    quali_time: Mapped[dt.time | None] = mapped_column(Time)
    sprint_date: Mapped[dt.date | None] = mapped_column(Date)
    sprint_time: Mapped[dt.time | None] = mapped_column(Time)
    # Jolpica's `SprintQualifying` (2024 on; `SprintShootout` in 2023)
    sprint_quali_date: Mapped[dt.date | None] = mapped_column(Date)
    sprint_quali_time: Mapped[dt.time | None] = mapped_column(Time)


class _Classification:
    """Columns shared by race and sprint results (one row per car, by finishing order)."""

    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    number: Mapped[int | None]
    grid: Mapped[int]  # 0 = pit-lane start or no grid slot
    position: Mapped[int | None]  # null unless classified
    position_text: Mapped[str] = mapped_column(String(8))
    position_order: Mapped[int]
    points: Mapped[float] = mapped_column(Float)
    laps: Mapped[int]
    time_text: Mapped[str | None] = mapped_column(String(32))
    milliseconds: Mapped[int | None]
    fastest_lap: Mapped[int | None]
    fastest_lap_time: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(64))


def _classification_checks() -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint("grid >= 0", name="grid_not_negative"),
        CheckConstraint("laps >= 0", name="laps_not_negative"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("position_order >= 1", name="order_positive"),
        CheckConstraint("position IS NULL OR position >= 1", name="position_positive"),
    )


class RaceResult(_Classification, Base):
    """One car's race result. Keyed by finishing order: a shared drive of 1950–78 gives one
    driver two rows in one race, so (race, driver) is deliberately not unique."""

    __tablename__ = "race_results"
    __table_args__ = (
        UniqueConstraint("race_id", "position_order"),
        # a race's result of one driver (the feature build joins pit stops to it)
        Index("ix_race_results_race_id_driver_id", "race_id", "driver_id"),
        *_classification_checks(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fastest_lap_rank: Mapped[int | None]
    fastest_lap_speed: Mapped[float | None] = mapped_column(Float)


class SprintResult(_Classification, Base):
    """One car's sprint result."""

    __tablename__ = "sprint_results"
    __table_args__ = (UniqueConstraint("race_id", "position_order"), *_classification_checks())

    id: Mapped[int] = mapped_column(primary_key=True)


class QualifyingResult(Base):
    """One driver's qualifying result; q1 holds the single time of pre-2006 formats."""

    __tablename__ = "qualifying_results"
    __table_args__ = (
        UniqueConstraint("race_id", "driver_id"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    number: Mapped[int | None]
    position: Mapped[int]
    q1: Mapped[str | None] = mapped_column(String(16))
    q2: Mapped[str | None] = mapped_column(String(16))
    q3: Mapped[str | None] = mapped_column(String(16))


class PracticeResult(Base):
    """One driver's classification in a free-practice session (`session` 1–4: FP1–FP4): best
    lap (`milliseconds`, null when no time was set) and laps run (often unknown before 2006)."""

    __tablename__ = "practice_results"
    __table_args__ = (
        UniqueConstraint("race_id", "session", "driver_id"),
        CheckConstraint("session BETWEEN 1 AND 4", name="session_known"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("milliseconds IS NULL OR milliseconds > 0", name="lap_positive"),
        CheckConstraint("laps IS NULL OR laps >= 0", name="laps_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    session: Mapped[int]
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    number: Mapped[int | None]
    position: Mapped[int]
    time_text: Mapped[str | None] = mapped_column(String(16))
    milliseconds: Mapped[int | None]
    laps: Mapped[int | None]


class DriverStanding(Base):
    """The drivers' championship table after a race."""

    __tablename__ = "driver_standings"
    __table_args__ = (
        UniqueConstraint("race_id", "driver_id"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    points: Mapped[float] = mapped_column(Float)
    position: Mapped[int | None]
    position_text: Mapped[str] = mapped_column(String(8))
    wins: Mapped[int]


class ConstructorStanding(Base):
    """The constructors' championship table after a race (from 1958)."""

    __tablename__ = "constructor_standings"
    __table_args__ = (
        UniqueConstraint("race_id", "team_id"),
        CheckConstraint("points >= 0", name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    points: Mapped[float] = mapped_column(Float)
    position: Mapped[int | None]
    position_text: Mapped[str] = mapped_column(String(8))
    wins: Mapped[int]


class PitStop(Base):
    """One pit stop (1994 on); `duration` is the text the source gives, e.g. `23.456`."""

    __tablename__ = "pit_stops"
    __table_args__ = (
        UniqueConstraint("race_id", "driver_id", "stop"),
        CheckConstraint("stop >= 1", name="stop_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    stop: Mapped[int]
    lap: Mapped[int]
    time_of_day: Mapped[dt.time | None] = mapped_column(Time)
    duration: Mapped[str | None] = mapped_column(String(16))
    milliseconds: Mapped[int | None]


class LapTime(Base):
    """One driver's lap of a race (the API has them from 1996): position at the lap's end and
    its time."""

    __tablename__ = "lap_times"
    __table_args__ = (
        UniqueConstraint("race_id", "driver_id", "lap"),
        CheckConstraint("lap >= 1", name="lap_positive"),
        CheckConstraint("milliseconds IS NULL OR milliseconds > 0", name="time_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    lap: Mapped[int]
    position: Mapped[int | None]
    milliseconds: Mapped[int | None]


class WeatherData(Base):
    """Weather in a race's first three hours (Open-Meteo), each row with when it was known.

    `source`: `forecast` (fetched before the race; `issued_at` = when it was fetched, a race
    collects one row per fetch), `historical_forecast` (Open-Meteo's archived forecasts, built
    from model runs of the hours before; `issued_at` = race start − 6 h) or `archive` (the
    observation; `issued_at` = the window's end). Features use only forecasts issued before the
    stage's cut-off, never the observation. A race without weather has no row.
    """

    __tablename__ = "weather"
    __table_args__ = (
        UniqueConstraint("race_id", "source", "issued_at"),
        CheckConstraint("condition IN ('dry', 'wet', 'mixed')", name="condition_known"),
        CheckConstraint(
            "source IN ('forecast', 'historical_forecast', 'archive')", name="source_known"
        ),
        CheckConstraint("humidity_pct IS NULL OR humidity_pct BETWEEN 0 AND 100", name="humidity"),
        CheckConstraint("precipitation_mm IS NULL OR precipitation_mm >= 0", name="rain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    race_id: Mapped[int] = mapped_column(ForeignKey("races.id"), index=True)
    air_temperature_c: Mapped[float | None] = mapped_column(Float)
    precipitation_mm: Mapped[float | None] = mapped_column(Float)
    wind_speed_kmh: Mapped[float | None] = mapped_column(Float)
    humidity_pct: Mapped[float | None] = mapped_column(Float)
    condition: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(24))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
