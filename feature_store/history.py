"""What earlier races say of a driver and of his team: the race log, form, the season's
standing, circuit record and teammate duels, each joined as of the race (strictly before it).

Team histories are kept per entry (`entry_id`, feature_store/lineage.py): a renamed team keeps
its record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.frames import Frames
from feature_store.lineage import with_entry

NOT_STARTED = ("F", "W")  # failed to qualify, withdrew: no start, no rating change
FORM = (
    "driver_starts",
    "form3_finish",
    "form3_points",
    "form3_dnf",
    "form5_finish",
    "form5_points",
    "form5_dnf",
)


def driver_log(frames: Frames) -> pd.DataFrame:
    """One row per (race, driver) started, with the driver's rolling form after that race and
    the team's entry."""
    results = frames.results[~frames.results["position_text"].isin(NOT_STARTED)]
    results = results.sort_values("position_order").drop_duplicates(["race_id", "driver_id"])
    log = results.merge(frames.races[["race_id", "idx", "season", "circuit_ref"]], on="race_id")
    log = with_entry(log, frames.lineage, log["season"])
    log = log.sort_values(["driver_id", "idx"], kind="stable").reset_index(drop=True)
    log["dnf"] = log["position"].isna().astype(float)
    log["won"] = (log["position"] == 1).astype(float)
    grouped = log.groupby("driver_id", sort=False)
    log["driver_starts"] = grouped.cumcount() + 1
    first = (np.arange(len(log)) - log["driver_starts"].to_numpy() + 1).astype(int)
    for n in (3, 5):
        for column, source in (("finish", "position_order"), ("points", "points"), ("dnf", "dnf")):
            log[f"form{n}_{column}"] = trailing_mean(log[source].to_numpy(float), first, n)
    return log


def trailing_mean(values: np.ndarray, first: np.ndarray, n: int) -> np.ndarray:
    """Mean of each row's value and the n−1 before it within its group (rows sorted by
    group; `first` is the position of each row's group's first row)."""
    position = np.arange(len(values))
    total, count = np.zeros(len(values)), np.zeros(len(values))
    for back in range(n):  # a sum of at most n values per row: no error carried along the log
        source = position - back
        inside = source >= first
        total[inside] += values[source[inside]]
        count += inside
    return total / count


def rolling(log: pd.DataFrame, who: str, source: str, n: int) -> np.ndarray:
    """Mean of `source` over each `who`'s last n rows up to and including this one (`log`
    sorted by who, then idx; missing values skipped)."""
    values = log[source].to_numpy(float)
    known = ~np.isnan(values)
    rank = log.groupby(who, sort=False).cumcount().to_numpy()
    first = np.arange(len(log)) - rank
    total = trailing_mean(np.where(known, values, 0.0), first, n)
    count = trailing_mean(known.astype(float), first, n)
    return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def team_log(log: pd.DataFrame) -> pd.DataFrame:
    """One row per (race, entry): its best-placed car."""
    best = log.sort_values("position_order").drop_duplicates(["race_id", "entry_id"])
    return best.sort_values(["entry_id", "idx"], kind="stable").reset_index(drop=True)


def asof(
    rows: pd.DataFrame, log: pd.DataFrame, by: str | list[str], columns: list[str]
) -> pd.DataFrame:
    """Attach `columns` from the latest `log` row strictly before each row's race."""
    keys = [by] if isinstance(by, str) else by
    right = log[[*keys, "idx", *columns]].sort_values("idx", kind="stable")
    left = rows.sort_values("idx", kind="stable")
    merged = pd.merge_asof(
        left,
        right.rename(columns={"idx": "_idx"}),
        left_on="idx",
        right_on="_idx",
        by=keys,
        allow_exact_matches=False,
        direction="backward",
    )
    return (
        merged.drop(columns="_idx")
        .sort_values(["idx", "driver_id"], kind="stable")
        .reset_index(drop=True)
    )


def form(rows: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """Starts and rolling form over the driver's last races."""
    rows = asof(rows, log, "driver_id", list(FORM))
    rows["driver_starts"] = rows["driver_starts"].fillna(0)
    return rows


def season_standing(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Points and place in the official table after the previous round of the same season."""
    table = frames.standings.merge(frames.races[["race_id", "idx", "season"]], on="race_id")
    table = table.rename(
        columns={
            "points": "season_points",
            "position": "championship_position",
            "season": "_season",
        }
    )
    rows = asof(rows, table, "driver_id", ["season_points", "championship_position", "_season"])
    other = rows["_season"] != rows["season"]
    rows.loc[other, "season_points"] = 0.0
    rows.loc[other, "championship_position"] = np.nan
    return rows.drop(columns="_season")


def circuit_history(rows: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """The driver's and the team's earlier results at this circuit."""
    by_circuit = log.sort_values(["driver_id", "circuit_ref", "idx"], kind="stable").copy()
    grouped = by_circuit.groupby(["driver_id", "circuit_ref"], sort=False)
    by_circuit["circuit_starts"] = grouped.cumcount() + 1
    by_circuit["circuit_mean_finish"] = (
        grouped["position_order"].cumsum() / by_circuit["circuit_starts"]
    )
    by_circuit["circuit_wins"] = grouped["won"].cumsum()
    rows = asof(
        rows,
        by_circuit,
        ["driver_id", "circuit_ref"],
        ["circuit_starts", "circuit_mean_finish", "circuit_wins"],
    )
    rows[["circuit_starts", "circuit_wins"]] = rows[["circuit_starts", "circuit_wins"]].fillna(0)
    teams = team_log(log).sort_values(["entry_id", "circuit_ref", "idx"], kind="stable").copy()
    grouped = teams.groupby(["entry_id", "circuit_ref"], sort=False)
    teams["team_circuit_mean_finish"] = grouped["position_order"].cumsum() / (
        grouped.cumcount() + 1
    )
    teams["team_circuit_wins"] = grouped["won"].cumsum()
    rows = asof(
        rows, teams, ["entry_id", "circuit_ref"], ["team_circuit_mean_finish", "team_circuit_wins"]
    )
    rows["team_circuit_wins"] = rows["team_circuit_wins"].fillna(0)
    return rows


def teammates(rows: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """Share of this season's earlier races the driver finished ahead of his teammates."""
    pairs = log[["race_id", "idx", "season", "team_id", "driver_id", "position_order"]]
    both = pairs.merge(pairs, on=["race_id", "idx", "season", "team_id"], suffixes=("", "_mate"))
    both = both[both["driver_id"] != both["driver_id_mate"]]
    both["ahead"] = (both["position_order"] < both["position_order_mate"]).astype(float)
    per_race = both.groupby(["driver_id", "idx", "season"], as_index=False).agg(
        ahead=("ahead", "sum"), duels=("ahead", "size")
    )
    per_race = per_race.sort_values(["driver_id", "idx"], kind="stable")
    grouped = per_race.groupby(["driver_id", "season"], sort=False)
    per_race["_ahead"] = grouped["ahead"].cumsum()
    per_race["_duels"] = grouped["duels"].cumsum()
    per_race = per_race.rename(columns={"season": "_season"})
    rows = asof(rows, per_race, "driver_id", ["_ahead", "_duels", "_season"])
    same = rows["_season"] == rows["season"]
    rows["teammate_h2h"] = np.where(same, rows["_ahead"] / rows["_duels"], np.nan)
    return rows.drop(columns=["_ahead", "_duels", "_season"])
