"""Qualifying: one entry per driver, positions, and lap times that parse."""

from __future__ import annotations

import re

import great_expectations as gx
import pandas as pd

from expectations.common import OK, all_ok, label, named, new_suite

SQL = (
    "SELECT r.season, r.round, q.race_id, d.ref AS driver_ref, t.ref AS team_ref, q.position, "
    "q.q1, q.q2, q.q3 FROM qualifying_results q JOIN races r ON r.id = q.race_id "
    "LEFT JOIN drivers d ON d.id = q.driver_id LEFT JOIN teams t ON t.id = q.team_id"
)
LAP = re.compile(r"^(\d{1,2}:)?\d{1,3}\.\d{1,3}$")  # 1:29.179, 59.9, 2:01.5


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row` and `lap_times`: the first unreadable Q1/Q2/Q3 of a row, if any."""
    frame = frame.sort_values(["season", "round", "position"]).reset_index(drop=True)
    frame["row"] = label(frame, "driver_ref")
    frame["lap_times"] = OK
    for column in ("q3", "q2", "q1"):
        values = frame[column]
        bad = values.notna() & (values != "") & ~values.astype(str).str.match(LAP)
        frame.loc[bad, "lap_times"] = (frame["row"] + f" {column} " + values.astype(str))[bad]
    return frame


def suite() -> gx.ExpectationSuite:
    """The qualifying suite."""
    e = gx.expectations
    return new_suite(
        "qualifying",
        [
            named(
                e.ExpectCompoundColumnsToBeUnique(column_list=["race_id", "driver_ref"]),
                "one qualifying entry per driver and race",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="position", min_value=1, max_value=60),
                "qualifying positions between 1 and 60",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="driver_ref"),
                "every entry's driver is known",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="team_ref"), "every entry's team is known"
            ),
            all_ok("lap_times", "qualifying times parse as m:ss.fff"),
        ],
    )
