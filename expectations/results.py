"""Race results: finishing order, winners, points within the season's scoring, grid and laps,
known drivers and teams."""

from __future__ import annotations

import great_expectations as gx
import pandas as pd

from expectations.common import OK, all_ok, label, named, new_suite

SQL = (
    "SELECT r.season, r.round, rr.race_id, d.ref AS driver_ref, t.ref AS team_ref, rr.number, "
    "rr.grid, rr.position, rr.position_text, rr.position_order, rr.points, rr.laps, rr.status "
    "FROM race_results rr JOIN races r ON r.id = rr.race_id "
    "LEFT JOIN drivers d ON d.id = rr.driver_id LEFT JOIN teams t ON t.id = rr.team_id"
)


def max_points(season: int) -> float:
    """Most points one car could score in a race of `season` (win, fastest lap, and the
    double-points finale of 2014)."""
    if season == 2014:
        return 50.0
    for until, most in (
        (1959, 9.0),
        (1960, 8.0),
        (1990, 9.0),
        (2009, 10.0),
        (2018, 25.0),
        (2024, 26.0),
    ):
        if season <= until:
            return most
    return 25.0  # 2025 on: no fastest-lap point


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `row`, `positions` (a shared drive is one car, so it may share a position),
    `winners` (one winning car per race) and `scoring` (points allowed)."""
    frame = frame.sort_values(["season", "round", "position_order"]).reset_index(drop=True)
    frame["row"] = label(frame, "driver_ref")
    winners = frame[frame["position"] == 1].drop_duplicates(["race_id", "team_ref", "number"])
    count = winners.groupby("race_id").size().reindex(frame["race_id"].unique(), fill_value=0)
    first = ~frame["race_id"].duplicated()
    frame["winners"] = OK
    bad = first & frame["race_id"].map(count).ne(1)
    frame.loc[bad, "winners"] = (
        label(frame) + ": " + frame["race_id"].map(count).astype(str) + " winning cars"
    )[bad]
    cars = frame[frame["position"].notna()].drop_duplicates(
        ["race_id", "position", "team_ref", "number"]
    )
    shared = cars.groupby(["race_id", "position"]).size()
    shared = shared[shared > 1]
    frame["positions"] = OK
    for (race_id, position), count in shared.items():
        where = frame.index[(frame["race_id"] == race_id) & (frame["position"] == position)][0]
        frame.loc[where, "positions"] = (
            f"{label(frame.loc[[where]]).iat[0]}: position {int(position)} held by {count} cars"
        )
    allowed = frame["season"].map(max_points)
    over = frame["points"] > allowed
    frame["scoring"] = OK
    frame.loc[over, "scoring"] = (
        frame["row"] + ": " + frame["points"].astype(str) + " points > " + allowed.astype(str)
    )[over]
    return frame


def suite() -> gx.ExpectationSuite:
    """The results suite."""
    e = gx.expectations
    return new_suite(
        "results",
        [
            named(
                e.ExpectCompoundColumnsToBeUnique(column_list=["race_id", "position_order"]),
                "one car per finishing order within a race",
            ),
            all_ok("positions", "no two cars share a classified position within a race"),
            all_ok("winners", "exactly one winning car per race"),
            all_ok("scoring", "points within what the season's scoring allows"),
            named(
                e.ExpectColumnValuesToBeBetween(column="points", min_value=0), "points not negative"
            ),
            named(e.ExpectColumnValuesToBeBetween(column="grid", min_value=0), "grid not negative"),
            named(
                e.ExpectColumnValuesToBeBetween(column="laps", min_value=0, max_value=250),
                "laps not negative",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="driver_ref"),
                "every result's driver is known",
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="team_ref"), "every result's team is known"
            ),
            named(
                e.ExpectColumnValuesToNotBeNull(column="status"), "every result keeps its status"
            ),
        ],
    )
