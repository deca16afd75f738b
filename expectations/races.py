"""Races: keys, dates, and round numbers in date order within a season."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from expectations.common import OK, all_ok, label, named, new_suite

SQL = (
    "SELECT r.season, r.round, r.date, c.ref AS circuit_ref FROM races r "
    "LEFT JOIN circuits c ON c.id = r.circuit_id"
)


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row` and `date_order`: a race dated before an earlier round of its season."""
    frame = frame.sort_values(["season", "round"]).reset_index(drop=True)
    frame["row"] = label(frame)
    previous = frame.groupby("season")["date"].shift()
    late = previous.notna() & (pd.to_datetime(frame["date"]) < pd.to_datetime(previous))
    frame["date_order"] = OK
    frame.loc[late, "date_order"] = (
        frame["row"]
        + " dated "
        + frame["date"].astype(str)
        + ", before the round ahead of it ("
        + previous.astype(str)
        + ")"
    )[late]
    return frame


def suite() -> gx.ExpectationSuite:
    """The races suite."""
    e = gx.expectations
    return new_suite(
        "races",
        [
            named(
                e.ExpectCompoundColumnsToBeUnique(column_list=["season", "round"]),
                "one race per (season, round)",
            ),
            named(e.ExpectColumnValuesToNotBeNull(column="date"), "every race has a date"),
            named(
                e.ExpectColumnValuesToNotBeNull(column="circuit_ref"),
                "every race has a known circuit",
            ),
            named(
                e.ExpectColumnValuesToBeBetween(column="round", min_value=1, max_value=30),
                "round numbers between 1 and 30",
            ),
            all_ok("date_order", "round numbers in date order within a season"),
        ],
    )
