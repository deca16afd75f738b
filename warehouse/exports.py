"""The season exports (race results, stored predictions): one query each, shared by the API's
streamed downloads and the `f1_score` DAG's files in the artifact store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, select

from warehouse import csvsafe
from warehouse.schema import Driver, Prediction, Race, RaceResult, Team

RESULT_COLUMNS = (
    "season", "round", "race", "position", "position_text", "position_order", "driver_id",
    "team_id", "grid", "laps", "status", "points",
)  # fmt: skip
PREDICTION_COLUMNS = (
    "season", "round", "race", "stage", "model_name", "model_version", "driver_id", "probability",
)  # fmt: skip


def season_results(season: int) -> Select[Any]:
    """A season's race results in finishing order, ids as the API's refs."""
    return (
        select(
            Race.season,
            Race.round,
            Race.name,
            RaceResult.position,
            RaceResult.position_text,
            RaceResult.position_order,
            Driver.ref,
            Team.ref,
            RaceResult.grid,
            RaceResult.laps,
            RaceResult.status,
            RaceResult.points,
        )  # fmt: skip
        .join(Race, Race.id == RaceResult.race_id)
        .join(Driver, Driver.id == RaceResult.driver_id)
        .join(Team, Team.id == RaceResult.team_id)
        .where(Race.season == season)
        .order_by(Race.round, RaceResult.position_order)
    )


def season_predictions(season: int) -> Select[Any]:
    """A season's stored predictions, favourites first per race, stage and version."""
    return (
        select(
            Race.season,
            Race.round,
            Race.name,
            Prediction.stage,
            Prediction.model_name,
            Prediction.model_version,
            Driver.ref,
            Prediction.probability,
        )  # fmt: skip
        .join(Race, Race.id == Prediction.race_id)
        .join(Driver, Driver.id == Prediction.driver_id)
        .where(Race.season == season)
        .order_by(
            Race.round, Prediction.stage, Prediction.model_version, Prediction.probability.desc()
        )
    )


def write_csv(engine: Engine, query: Select[Any], columns: tuple[str, ...], path: Path) -> int:
    """The rows of `query` as a CSV file with a header (fetched in batches); how many rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="") as handle, engine.connect() as connection:
        writer = csvsafe.writer(handle)
        writer.writerow(columns)
        for row in connection.execute(query.execution_options(yield_per=500)):
            writer.writerow(row)
            count += 1
    return count
