"""Training rows: features from the offline store, labels from the warehouse's results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.frames import read_sql
from feature_store.store import read_offline

LABELS = (
    "SELECT race_id, driver_id, MAX(CASE WHEN position = 1 THEN 1 ELSE 0 END) AS won, "
    "MIN(grid) AS result_grid FROM race_results GROUP BY race_id, driver_id"
)


def labelled(
    engine: Engine | Connection, stage: str, since: int | None = None, root: Path | None = None
) -> pd.DataFrame:
    """The stage's published feature rows with `won` (0/1) and the official `result_grid`
    (null for an entrant who did not start); races without results are left out."""
    features = read_offline(stage, root, since)
    labels = read_sql(engine, LABELS)
    rows = features.merge(labels, on=["race_id", "driver_id"], how="left")
    has_results = rows["race_id"].isin(labels["race_id"])
    rows = rows[has_results].copy()
    rows["won"] = rows["won"].fillna(0).astype(int)
    return rows.sort_values(["season", "round", "driver_id"]).reset_index(drop=True)
