"""Championship tables (drivers and constructors): one row each, points, places and wins."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from expectations.common import label, named, new_suite

SQL = (
    "SELECT r.season, r.round, s.race_id, 'driver' AS kind, d.ref AS who, s.points, "
    "s.position, s.wins FROM driver_standings s JOIN races r ON r.id = s.race_id "
    "LEFT JOIN drivers d ON d.id = s.driver_id "
    "UNION ALL SELECT r.season, r.round, s.race_id, 'team', t.ref, s.points, s.position, "
    "s.wins FROM constructor_standings s JOIN races r ON r.id = s.race_id "
    "LEFT JOIN teams t ON t.id = s.team_id"
)


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row` and `wins_left` (round − wins: never negative)."""
    frame = frame.reset_index(drop=True)
    frame["row"] = label(frame, "who") + " (" + frame["kind"] + ")"
    frame["wins_left"] = frame["round"] - frame["wins"]
    return frame


def suite() -> gx.ExpectationSuite:
    """The standings suite."""
    e = gx.expectations
    return new_suite(
        "standings",
        [
            named(
                e.ExpectCompoundColumnsToBeUnique(column_list=["race_id", "kind", "who"]),
                "one row per driver or team in each table",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="who"), "every row's driver or team is known"
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="points", min_value=0, max_value=1000),
                "standing points between 0 and 1000",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="position", min_value=1, max_value=120),
                "standing positions from 1",
            ),
            named(e.ExpectColumnValuesToBeBetween(column="wins", min_value=0), "wins not negative"),
            named(
                e.ExpectColumnValuesToBeBetween(column="wins_left", min_value=0),
                "no more wins than rounds run",
            ),
        ],
    )
