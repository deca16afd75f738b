"""Reads the warehouse tables the feature builder needs into pandas frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

QUERIES = {
    "races": "SELECT r.id AS race_id, r.season, r.round, r.name, r.date, r.time, r.fp1_date, "
    "r.fp1_time, r.fp2_date, r.fp2_time, r.fp3_date, r.fp3_time, r.quali_date, r.quali_time, "
    "r.sprint_date, r.sprint_time, r.sprint_quali_date, r.sprint_quali_time, "
    "c.ref AS circuit_ref FROM races r JOIN circuits c ON c.id = r.circuit_id",
    "results": "SELECT r.race_id, r.driver_id, d.ref AS driver_ref, r.team_id, t.ref AS team_ref, "
    "r.position, r.position_order, r.position_text, r.points FROM race_results r "
    "JOIN drivers d ON d.id = r.driver_id JOIN teams t ON t.id = r.team_id",
    "qualifying": "SELECT q.race_id, q.driver_id, d.ref AS driver_ref, q.team_id, "
    "t.ref AS team_ref, q.position, q.q1, q.q2, q.q3 FROM qualifying_results q "
    "JOIN drivers d ON d.id = q.driver_id JOIN teams t ON t.id = q.team_id",
    "sprints": "SELECT race_id, driver_id, position_order FROM sprint_results",
    "practice": "SELECT race_id, session, driver_id, team_id, position, milliseconds, laps "
    "FROM practice_results",
    "standings": "SELECT race_id, driver_id, points, position FROM driver_standings",
    "lap_times": "SELECT race_id, driver_id, milliseconds FROM lap_times "
    "WHERE milliseconds IS NOT NULL",
    "pit_stops": "SELECT p.race_id, r.team_id, p.milliseconds FROM pit_stops p "
    "JOIN race_results r ON r.race_id = p.race_id AND r.driver_id = p.driver_id "
    "WHERE p.milliseconds IS NOT NULL",
    # declared renames whose two teams are both in the warehouse (feature_store/lineage.py)
    "lineage": "SELECT t.id AS team_id, l.from_season, p.id AS predecessor_id "
    "FROM team_lineage l JOIN teams t ON t.ref = l.team_ref "
    "JOIN teams p ON p.ref = l.predecessor_ref",
    # forecasts only, each with when it was issued: an observation never becomes a feature
    "weather": "SELECT race_id, issued_at, air_temperature_c, precipitation_mm, condition "
    "FROM weather WHERE source <> 'archive'",
}


@dataclass(frozen=True)
class Frames:
    """The warehouse, as far as the features need it; races carry a chronological `idx`."""

    races: pd.DataFrame
    results: pd.DataFrame
    qualifying: pd.DataFrame
    sprints: pd.DataFrame
    practice: pd.DataFrame
    standings: pd.DataFrame
    pit_stops: pd.DataFrame
    lap_times: pd.DataFrame
    weather: pd.DataFrame
    lineage: pd.DataFrame


def read_sql(
    source: Engine | Connection, sql: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One query into a frame, from an engine or from a connection (which sees its own
    uncommitted transaction)."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return pd.read_sql(text(sql), connection, params=params)
    return pd.read_sql(text(sql), source, params=params)


def load_frames(source: Engine | Connection) -> Frames:
    """Read every table the builder needs (one query each), from an engine or a connection
    (a connection sees its own uncommitted transaction)."""
    if isinstance(source, Engine):
        with source.connect() as connection:
            return load_frames(connection)  # one connection for every query
    frames = {name: read_sql(source, sql) for name, sql in QUERIES.items()}
    races = frames["races"].sort_values(["season", "round"], kind="stable").reset_index(drop=True)
    races["idx"] = range(len(races))
    frames["races"] = races
    return Frames(**frames)
