"""Season exports (race results and stored predictions as CSV) for the artifact store."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from warehouse.artifacts import Upload, publish
from warehouse.exports import (
    PREDICTION_COLUMNS,
    RESULT_COLUMNS,
    season_predictions,
    season_results,
    write_csv,
)
from warehouse.schema import Race

log = logging.getLogger(__name__)


def export_season(engine: Engine, season: int, folder: Path) -> dict[str, Any]:
    """The season's two CSV files in `folder` (the API's export columns); paths and row counts."""
    results = folder / f"f1-race-results-{season}.csv"
    predictions = folder / f"f1-predictions-{season}.csv"
    return {
        "paths": [results, predictions],
        "rows": {
            results.name: write_csv(engine, season_results(season), RESULT_COLUMNS, results),
            predictions.name: write_csv(
                engine, season_predictions(season), PREDICTION_COLUMNS, predictions
            ),
        },
    }


def current_season(engine: Engine, today: dt.date | None = None) -> int | None:
    """The latest season with a race on or before `today` (UTC), None for an empty warehouse."""
    today = today or dt.datetime.now(dt.UTC).date()
    with engine.connect() as connection:
        return connection.scalar(select(func.max(Race.season)).where(Race.date <= today))


def export_to_store(
    engine: Engine,
    season: int | None = None,
    url: str | None = None,
    upload: Upload | None = None,
) -> dict[str, Any]:
    """Write the season's exports (default: the current season) under
    `exports/season=<season>/` of the artifact store; what was written, with row counts."""
    season = season or current_season(engine)
    if season is None:
        return {"season": None, "written": [], "rows": {}}
    with tempfile.TemporaryDirectory() as tmp:
        exported = export_season(engine, season, Path(tmp))
        written = publish(exported["paths"], f"exports/season={season}", url, upload)
    log.info("exported season %s: %s", season, ", ".join(written))
    return {"season": season, "written": written, "rows": exported["rows"]}
