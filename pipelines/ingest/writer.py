"""Writes what the API said about one round in one transaction (idempotent upserts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session

from pipelines.ingest.records import EntityBook
from warehouse.db import transaction
from warehouse.schema import (
    Circuit,
    ConstructorStanding,
    Driver,
    DriverStanding,
    LapTime,
    QualifyingResult,
    Race,
    RaceResult,
    SprintResult,
    Team,
)
from warehouse.upsert import UpsertCounts, upsert

Rows = list[dict[str, Any]]


@dataclass
class RoundData:
    """Everything fetched for one round; None means "not fetched", [] means "none yet"."""

    season: int
    round: int
    book: EntityBook = field(default_factory=EntityBook)
    race: dict[str, Any] | None = None
    results: Rows | None = None
    sprint: Rows | None = None
    qualifying: Rows | None = None
    driver_standings: Rows | None = None
    constructor_standings: Rows | None = None
    laps: Rows | None = None

    @property
    def has_results(self) -> bool:
        """The API had this round's race results."""
        return bool(self.results)


_CHILDREN: tuple[tuple[str, type[Any], tuple[str, ...]], ...] = (
    ("results", RaceResult, ("race_id", "position_order")),
    ("sprint", SprintResult, ("race_id", "position_order")),
    ("qualifying", QualifyingResult, ("race_id", "driver_id")),
    ("driver_standings", DriverStanding, ("race_id", "driver_id")),
    ("constructor_standings", ConstructorStanding, ("race_id", "team_id")),
    ("laps", LapTime, ("race_id", "driver_id", "lap")),
)


def write_entities(session: Session, book: EntityBook) -> dict[str, UpsertCounts]:
    """Upsert the circuits, teams and drivers met; a known ref is updated, never duplicated."""
    counts = {}
    for name, model, rows in (
        ("circuits", Circuit, book.circuits),
        ("teams", Team, book.teams),
        ("drivers", Driver, book.drivers),
    ):
        table = cast(Table, model.__table__)
        counts[name] = upsert(
            session, table, list(rows.values()), ("ref",), scope=table.c.ref.in_(list(rows))
        )
    return counts


def write_races(session: Session, races: Rows) -> UpsertCounts:
    """Upsert race rows (with `circuit_ref`) by (season, round)."""
    if not races:
        return UpsertCounts()
    circuits = _ids(session, Circuit, {r["circuit_ref"] for r in races})
    rows = [
        {
            **{k: v for k, v in r.items() if k != "circuit_ref"},
            "circuit_id": circuits[r["circuit_ref"]],
        }
        for r in races
    ]
    table = cast(Table, Race.__table__)
    seasons = {r["season"] for r in rows}
    return upsert(session, table, rows, ("season", "round"), scope=table.c.season.in_(seasons))


def write_round(engine: Engine, data: RoundData) -> dict[str, UpsertCounts]:
    """Upsert one round (entities, race, results, sprint, qualifying, standings) atomically."""
    with transaction(engine) as session:
        counts = write_entities(session, data.book)
        counts["races"] = write_races(session, [data.race] if data.race else [])
        race_id = session.scalar(
            select(Race.id).where(Race.season == data.season, Race.round == data.round)
        )
        if race_id is None:
            raise LookupError(
                f"race {data.season}/{data.round} is neither stored nor in the answer"
            )
        drivers = _ids(session, Driver, set(data.book.drivers))
        teams = _ids(session, Team, set(data.book.teams))
        for name, model, key in _CHILDREN:
            rows = getattr(data, name)
            if not rows:
                continue
            resolved = [_resolve(row, race_id, drivers, teams) for row in rows]
            table = cast(Table, model.__table__)
            counts[table.name] = upsert(
                session, table, resolved, key, scope=table.c.race_id == race_id
            )
    return counts


def _resolve(
    row: dict[str, Any], race_id: int, drivers: dict[str, int], teams: dict[str, int]
) -> dict[str, Any]:
    resolved = {k: v for k, v in row.items() if k not in ("driver_ref", "team_ref")}
    resolved["race_id"] = race_id
    if "driver_ref" in row:
        resolved["driver_id"] = drivers[row["driver_ref"]]
    if "team_ref" in row:
        resolved["team_id"] = teams[row["team_ref"]]
    return resolved


def _ids(session: Session, model: type[Any], refs: set[str]) -> dict[str, int]:
    if not refs:
        return {}
    query = select(model.ref, model.id).where(model.ref.in_(refs))
    return dict(session.execute(query).tuples().all())
