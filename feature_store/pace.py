"""Pace from earlier races: qualifying gaps (the driver, his car, his teammate; over the last
races and over this season), pit work and race pace from lap times. Team pace is kept per
entry (a renamed team keeps it)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.frames import Frames
from feature_store.history import asof, rolling
from feature_store.lineage import with_entry

GAP_CAP = 10.0  # % of pole: a slower lap (a crash, a red flag) says no more than this
MAX_STOP_MS = 120_000  # a pit stop in the pit lane, however slow, is under two minutes
CLEAN_LAP = 1.07  # laps slower than 107 % of the race's median lap are not race pace
MIN_CLEAN_LAPS = 10
LAP = r"^\s*(?:(\d+):)?(\d+(?:\.\d*)?|\.\d+)\s*$"  # `1:29.179` or `89.179`


def lap_ms(text: object) -> float:
    """A lap time like `1:29.179` (or `89.179`) in milliseconds; NaN when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return np.nan
    minutes, _, seconds = text.rpartition(":")
    try:
        return (int(minutes or 0) * 60 + float(seconds)) * 1000
    except ValueError:
        return np.nan


def best_lap(qualifying: pd.DataFrame) -> pd.Series:
    """Each qualifying row's best lap of Q1–Q3 in milliseconds (NaN without a time); what
    `lap_ms` reads, for whole columns at once."""
    laps = []
    for column in ("q1", "q2", "q3"):
        parts = qualifying[column].astype("string").str.extract(LAP)
        minutes = pd.to_numeric(parts[0], errors="coerce").fillna(0)
        seconds = pd.to_numeric(parts[1], errors="coerce")
        laps.append(((minutes * 60 + seconds) * 1000).astype(float))
    return pd.concat(laps, axis=1).min(axis=1)


def quali_log(frames: Frames) -> pd.DataFrame:
    """One row per (race, driver) with a qualifying lap: the best lap's gap to pole (% of the
    pole lap, capped at GAP_CAP) and to the teammate's best lap (% of pole), with the entry."""
    quali = frames.qualifying[["race_id", "driver_id", "team_id", "q1", "q2", "q3"]].copy()
    quali["best"] = best_lap(quali)
    quali = quali.dropna(subset=["best"]).merge(
        frames.races[["race_id", "idx", "season"]], on="race_id"
    )
    quali = with_entry(quali, frames.lineage, quali["season"])
    pole = quali.groupby("race_id")["best"].transform("min")
    quali["gap"] = ((quali["best"] - pole) / pole * 100).clip(upper=GAP_CAP)
    team = quali.groupby(["race_id", "team_id"])["gap"]
    others = (team.transform("sum") - quali["gap"]) / (team.transform("count") - 1)
    quali["mate"] = (quali["gap"] - others).where(team.transform("count") > 1)
    return quali


def quali_pace(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Qualifying pace of the driver (with his car), of the team's best car, and against the
    teammate, each a mean over the last races before this one; and the team's best car over
    this season's earlier races."""
    quali = quali_log(frames).sort_values(["driver_id", "idx"], kind="stable")
    quali["quali_pace3"] = rolling(quali, "driver_id", "gap", 3)
    quali["teammate_quali_gap5"] = rolling(quali, "driver_id", "mate", 5)
    rows = asof(rows, quali, "driver_id", ["quali_pace3", "teammate_quali_gap5"])
    keys = ["race_id", "entry_id", "idx", "season"]
    best = pd.DataFrame(quali.groupby(keys, as_index=False)["gap"].min())
    best = best.sort_values(["entry_id", "idx"], kind="stable").reset_index(drop=True)
    best["team_quali_pace3"] = rolling(best, "entry_id", "gap", 3)
    season = best.groupby(["entry_id", "season"], sort=False)["gap"]
    best["_season_gap"] = season.cumsum() / (season.cumcount() + 1)
    rows = asof(
        rows,
        best.rename(columns={"season": "_season"}),
        "entry_id",
        ["team_quali_pace3", "_season_gap", "_season"],
    )
    same = rows["_season"] == rows["season"]
    rows["team_season_gap"] = rows["_season_gap"].where(same)
    return rows.drop(columns=["_season_gap", "_season"])


def pit_stops(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """The team's pit work: its median stop against the race's median stop (seconds), mean
    over its last 3 races with stops. Stops over MAX_STOP_MS (a red flag's wait in the pit
    lane, a repair in the garage) are not pit work and are left out."""
    stops = frames.pit_stops[frames.pit_stops["milliseconds"] <= MAX_STOP_MS]
    stops = stops.merge(frames.races[["race_id", "idx", "season"]], on="race_id")
    if stops.empty:
        rows["team_pit_delta3"] = np.nan
        return rows
    stops = with_entry(stops, frames.lineage, stops["season"])
    race = stops.groupby("race_id")["milliseconds"].median()
    team = pd.DataFrame(
        stops.groupby(["race_id", "entry_id", "idx"], as_index=False)["milliseconds"].median()
    )
    team["delta"] = (team["milliseconds"] - team["race_id"].map(race)) / 1000
    team = team.sort_values(["entry_id", "idx"], kind="stable").reset_index(drop=True)
    team["team_pit_delta3"] = rolling(team, "entry_id", "delta", 3)
    return asof(rows, team, "entry_id", ["team_pit_delta3"])


def race_pace(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Race pace from lap times: the driver's median clean lap (within CLEAN_LAP of the race's
    median lap: no pit, safety-car or first laps) against the fastest such median of the race
    (%), mean over his last 3 races with at least MIN_CLEAN_LAPS clean laps."""
    laps = frames.lap_times
    if laps.empty:
        rows["race_pace3"] = np.nan
        return rows
    median = laps.groupby("race_id")["milliseconds"].transform("median")
    clean = laps[laps["milliseconds"] <= median * CLEAN_LAP]
    per = clean.groupby(["race_id", "driver_id"])["milliseconds"].agg(["median", "size"])
    per = per[per["size"] >= MIN_CLEAN_LAPS].reset_index()
    best = per.groupby("race_id")["median"].transform("min")
    per["pace"] = (per["median"] - best) / best * 100
    per = per.merge(frames.races[["race_id", "idx"]], on="race_id")
    per = per.sort_values(["driver_id", "idx"], kind="stable").reset_index(drop=True)
    per["race_pace3"] = rolling(per, "driver_id", "pace", 3)
    return asof(rows, per, "driver_id", ["race_pace3"])
