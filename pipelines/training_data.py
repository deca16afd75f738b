"""Training rows: features from the offline store, labels from the warehouse's results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.frames import read_sql
from feature_store.store import read_offline

# Per (race, driver): won (the winner target's label), the official grid, the classified
# position (null when not classified) and the official order (non-classified cars ranked by
# laps run), the labels of the finishing-order distribution. A driver with two cars in a race
# (the 1950s) is counted by the better one.
LABELS = (
    "SELECT race_id, driver_id, MAX(CASE WHEN position = 1 THEN 1 ELSE 0 END) AS won, "
    "MIN(grid) AS result_grid, MIN(position) AS position, MIN(position_order) AS finish_order "
    "FROM race_results GROUP BY race_id, driver_id"
)


def labelled(
    engine: Engine | Connection, stage: str, since: int | None = None, root: Path | None = None
) -> pd.DataFrame:
    """The stage's published feature rows with `won` (0/1), the official `result_grid` (null
    for an entrant who did not start), the classified `position` (null if not classified),
    `dnf` (0/1) and the official `finish_order`; races without results are left out."""
    features = read_offline(stage, root, since)
    labels = read_sql(engine, LABELS)
    rows = features.merge(labels, on=["race_id", "driver_id"], how="left")
    has_results = rows["race_id"].isin(labels["race_id"])
    rows = rows[has_results].copy()
    rows["won"] = rows["won"].fillna(0).astype(int)
    # an entrant without a result (did not qualify, did not start) was not classified, and
    # is placed after every car that has a result
    rows["dnf"] = rows["position"].isna().astype(int)
    last = rows.groupby("race_id")["finish_order"].transform("max").fillna(0)
    rows["finish_order"] = rows["finish_order"].fillna(last + 1)
    return rows.sort_values(["season", "round", "driver_id"]).reset_index(drop=True)
