"""This weekend's free practice as known when qualifying starts: the `practice` feature group
of the post_practice stage.

Which sessions count: those run before qualifying. The calendar has session times for recent
seasons only, so the formats decide the rest: every practice session of a normal weekend, and
FP1 alone on a sprint weekend (2021–2022 ran FP2 after qualifying; 2023–2024 had one practice).
When the calendar knows both starts, a session after qualifying is left out whatever the
format. A sprint run before qualifying (the 2024 format) is evidence too: `sprint_before_quali`.

As of: race R's practice features come from R's own sessions before R's qualifying, never from
its qualifying, sprint after qualifying or result; the team's conversion from races before R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.frames import Frames
from feature_store.history import asof, rolling
from feature_store.lineage import with_entry
from feature_store.pace import GAP_CAP, quali_log

# how much each session counts in the combined gap, the last one before qualifying first
# (chosen on 2006–2013: docs/MODELS.md, "The practice stage")
SESSION_WEIGHTS = (1.0, 0.5, 0.25, 0.25)
CONVERSION_RACES = 5  # the team's last races with practice and qualifying it is averaged over
COLUMNS = (
    "fp_gap_pct",
    "fp_last_gap_pct",
    "fp_order",
    "fp_laps",
    "team_fp_gap_pct",
    "team_fp_conversion",
    "sprint_before_quali",
)


def sessions_before_quali(frames: Frames) -> pd.DataFrame:
    """The practice rows of sessions run before their race's qualifying, each with its gap to
    the session's best lap (% of it, capped at GAP_CAP) and `back`, the session's place counted
    from the last before qualifying (0 = the last)."""
    practice = frames.practice.dropna(subset=["milliseconds"])
    races = frames.races.set_index("race_id")
    sprint = set(frames.sprints["race_id"]) | set(races.index[races["sprint_date"].notna()])
    keep = ~practice["race_id"].isin(sprint) | (practice["session"] == 1)
    quali = _start(races, "quali")
    for session in (1, 2, 3):  # the calendar's own times, where it has them
        after = (_start(races, f"fp{session}") > quali).fillna(False)
        late = set(after.index[after.to_numpy()])
        keep &= ~((practice["session"] == session) & practice["race_id"].isin(late))
    practice = practice[keep].copy()
    best = practice.groupby(["race_id", "session"])["milliseconds"].transform("min")
    practice["gap"] = ((practice["milliseconds"] - best) / best * 100).clip(upper=GAP_CAP)
    last = practice.groupby("race_id")["session"].transform("max")
    practice["back"] = last - practice["session"]
    return practice


def _start(races: pd.DataFrame, kind: str) -> pd.Series:
    day = pd.to_datetime(races[f"{kind}_date"], errors="coerce")
    clock = pd.to_timedelta(races[f"{kind}_time"].astype("string").fillna("12:00:00"))
    return day + clock


def practice(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Rows with the practice features of their race (NaN where the driver set no time, or
    the race has no practice in the warehouse)."""
    sessions = sessions_before_quali(frames)
    weights = np.asarray(SESSION_WEIGHTS)
    sessions["w"] = weights[np.clip(sessions["back"].to_numpy(), 0, len(weights) - 1)]
    sessions["wgap"] = sessions["w"] * sessions["gap"]
    driver = sessions.groupby(["race_id", "driver_id"]).agg(
        wgap=("wgap", "sum"), w=("w", "sum"), laps=("laps", lambda s: s.sum(min_count=1))
    )
    driver["fp_gap_pct"] = driver["wgap"] / driver["w"]
    final = sessions[sessions["back"] == 0].copy()
    final["fp_order"] = final.groupby("race_id")["gap"].rank(method="first")
    per = driver[["fp_gap_pct", "laps"]].rename(columns={"laps": "fp_laps"}).reset_index()
    per = per.merge(
        final[["race_id", "driver_id", "gap", "fp_order"]].rename(
            columns={"gap": "fp_last_gap_pct"}
        ),
        on=["race_id", "driver_id"],
        how="left",
    )
    rows = rows.merge(per, on=["race_id", "driver_id"], how="left")
    rows["team_fp_gap_pct"] = rows.groupby(["race_id", "team_id"])["fp_gap_pct"].transform("min")
    rows = _conversion(rows, frames, per)
    return _sprint_before_quali(rows, frames)


def _conversion(rows: pd.DataFrame, frames: Frames, per: pd.DataFrame) -> pd.DataFrame:
    """`team_fp_conversion`: over the team's last CONVERSION_RACES races before this one with
    both, the mean of (its best car's qualifying gap − its best car's practice gap), in points
    of %: negative for a team that qualifies closer to the front than its practice said."""
    team = frames.practice[["race_id", "driver_id", "team_id"]].drop_duplicates(
        ["race_id", "driver_id"]
    )
    practised = per.merge(team, on=["race_id", "driver_id"]).merge(
        frames.races[["race_id", "idx", "season"]], on="race_id"
    )
    practised = with_entry(practised, frames.lineage, practised["season"])
    keys = ["race_id", "entry_id", "idx"]
    fp = practised.groupby(keys, as_index=False)["fp_gap_pct"].min()
    quali = quali_log(frames).groupby(keys, as_index=False)["gap"].min()
    both = fp.merge(quali, on=keys).sort_values(["entry_id", "idx"], kind="stable")
    both = both.reset_index(drop=True)
    both["diff"] = both["gap"] - both["fp_gap_pct"]
    both["team_fp_conversion"] = rolling(both, "entry_id", "diff", CONVERSION_RACES)
    return asof(rows, both, "entry_id", ["team_fp_conversion"])


def _sprint_before_quali(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """`sprint_before_quali`: the sprint's finishing order where the calendar has the sprint
    before qualifying (the 2024 format), else NaN."""
    races = frames.races.set_index("race_id")
    before = (_start(races, "sprint") < _start(races, "quali")).fillna(False)
    early = set(before.index[before.to_numpy()])
    sprint = frames.sprints[frames.sprints["race_id"].isin(early)]
    sprint = sprint.drop_duplicates(["race_id", "driver_id"]).rename(
        columns={"position_order": "sprint_before_quali"}
    )
    return rows.merge(sprint, on=["race_id", "driver_id"], how="left")
