"""Builds `race_entry_features_v1` from the warehouse, point in time.

Every history feature of race R comes from an as-of join on races strictly before R (by
season, round), so R's own result can never leak in, however complete the warehouse is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.elo import EloConfig, carried, rate
from feature_store.frames import Frames
from feature_store.view import (
    ERA_FADE_ROUNDS,
    ERA_STARTS,
    IDENTITY,
    STREET_CIRCUITS,
    feature_names,
)
from spec import STAGE_NAMES
from spec import stage as spec_stage
from warehouse.calendar import NO_PRACTICE, NOON, SESSIONS

NOT_STARTED = ("F", "W")  # failed to qualify, withdrew: no start, no rating change
GAP_CAP = 10.0  # % of pole: a slower lap (a crash, a red flag) says no more than this
MAX_STOP_MS = 120_000  # a pit stop in the pit lane, however slow, is under two minutes
CLEAN_LAP = 1.07  # laps slower than 107 % of the race's median lap are not race pace
MIN_CLEAN_LAPS = 10


def build_views(
    frames: Frames, stages: tuple[str, ...] = STAGE_NAMES, entrants: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The view's rows per stage: one per entrant (default: every qualifying entry)."""
    base = _base(frames, entrants)
    views = {}
    for stage in stages:
        rows = _qualifying(base, frames) if spec_stage(stage).uses("qualifying") else base.copy()
        rows = _weather(rows, frames, stage)
        rows["stage"] = stage
        names = feature_names(stage)
        out = rows[[*IDENTITY, "stage", *names]].copy()
        out[names] = out[names].astype(float)
        views[stage] = out
    return views


class NoLineup(LookupError):
    """No race before the one asked about has a qualifying list to take the line-up from."""


def previous_lineup(frames: Frames, idx: int, race_id: int) -> pd.DataFrame:
    """The entrants of the latest earlier race that has a qualifying list, moved to `race_id`
    (a race's entrants before its qualifying: the current line-ups)."""
    earlier = frames.races[frames.races["idx"] < idx].sort_values("idx", ascending=False)
    for previous in earlier["race_id"]:
        lineup = frames.qualifying[frames.qualifying["race_id"] == previous]
        if not lineup.empty:
            return lineup.assign(race_id=race_id, position=pd.NA, q1=None, q2=None, q3=None)
    raise NoLineup("no earlier race has a lineup")


def upcoming_lineup(frames: Frames) -> pd.DataFrame | None:
    """The entrants of the next race, when it has no qualifying list yet: the race after the
    last one with results, its entrants the current line-ups (None when there is no such race,
    or it has its qualifying list, or no race before it has one). The published build carries
    its rows for the stages that do not know the grid, so no request builds them."""
    done = frames.races[frames.races["race_id"].isin(frames.results["race_id"])]
    last = int(done["idx"].max()) if not done.empty else -1
    later = frames.races[frames.races["idx"] > last].sort_values("idx")
    if later.empty:
        return None
    race_id, idx = int(later["race_id"].iloc[0]), int(later["idx"].iloc[0])
    if (frames.qualifying["race_id"] == race_id).any():
        return None
    try:
        return previous_lineup(frames, idx, race_id)
    except NoLineup:
        return None


def _base(frames: Frames, entrants: pd.DataFrame | None) -> pd.DataFrame:
    """Entrants with every feature both stages share."""
    races = frames.races
    rows = (frames.qualifying if entrants is None else entrants).merge(
        races[["race_id", "season", "round", "idx", "circuit_ref"]], on="race_id"
    )
    rows = rows.sort_values(["idx", "driver_id"], kind="stable").reset_index(drop=True)
    log = _driver_log(frames)
    rows = _elo(rows, log, "driver_id", "driver_elo")
    rows = _elo(rows, _team_log(log), "team_id", "team_elo")
    form = [
        "driver_starts",
        "form3_finish",
        "form3_points",
        "form3_dnf",
        "form5_finish",
        "form5_points",
        "form5_dnf",
    ]
    rows = _asof(rows, log, "driver_id", form)
    rows["driver_starts"] = rows["driver_starts"].fillna(0)
    rows = _season_standing(rows, frames)
    rows = _circuit_history(rows, log)
    rows = _teammates(rows, log)
    rows = _quali_pace(rows, frames)
    rows = _pit_stops(rows, frames)
    rows = _race_pace(rows, frames)
    size = races.groupby("season")["round"].transform("max")
    left = dict(zip(races["race_id"], size - races["round"], strict=True))
    rows["races_left"] = rows["race_id"].map(left)
    rows["street_circuit"] = rows["circuit_ref"].isin(STREET_CIRCUITS).astype(float)
    rows["round_number"] = rows["round"]
    rows["era_opening"] = era_opening(rows["season"], rows["round"])
    return rows


def era_opening(season: pd.Series, round_: pd.Series) -> np.ndarray:
    """1 at round 1 of an era's first season, fading to 0 after ERA_FADE_ROUNDS; else 0."""
    fresh = season.astype(int).isin(ERA_STARTS).to_numpy()
    fade = np.clip(1 - (round_.to_numpy(dtype=float) - 1) / ERA_FADE_ROUNDS, 0, 1)
    return np.where(fresh, fade, 0.0)


def _driver_log(frames: Frames) -> pd.DataFrame:
    """One row per (race, driver) started, with the driver's rolling form after that race."""
    results = frames.results[~frames.results["position_text"].isin(NOT_STARTED)]
    results = results.sort_values("position_order").drop_duplicates(["race_id", "driver_id"])
    log = results.merge(frames.races[["race_id", "idx", "season", "circuit_ref"]], on="race_id")
    log = log.sort_values(["driver_id", "idx"], kind="stable").reset_index(drop=True)
    log["dnf"] = log["position"].isna().astype(float)
    log["won"] = (log["position"] == 1).astype(float)
    grouped = log.groupby("driver_id", sort=False)
    log["driver_starts"] = grouped.cumcount() + 1
    first = (np.arange(len(log)) - log["driver_starts"].to_numpy() + 1).astype(int)
    for n in (3, 5):
        for column, source in (("finish", "position_order"), ("points", "points"), ("dnf", "dnf")):
            log[f"form{n}_{column}"] = _trailing_mean(log[source].to_numpy(float), first, n)
    return log


def _trailing_mean(values: np.ndarray, first: np.ndarray, n: int) -> np.ndarray:
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


def _team_log(log: pd.DataFrame) -> pd.DataFrame:
    """One row per (race, team): its best-placed car."""
    best = log.sort_values("position_order").drop_duplicates(["race_id", "team_id"])
    return best.sort_values(["team_id", "idx"], kind="stable").reset_index(drop=True)


def _asof(
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


def _rated(log: pd.DataFrame, who: str, config: EloConfig) -> pd.DataFrame:
    """(idx, `who`, _rating): every competitor's rating after each of its races."""
    ordered = log.sort_values(["idx", "position_order"], kind="stable")
    idx, season = ordered["idx"].to_numpy(), ordered["season"].to_numpy()
    who_ = ordered[who].tolist()
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]  # each race's first row
    ends = np.r_[starts[1:], len(idx)]
    series = ((int(idx[a]), int(season[a]), who_[a:b]) for a, b in zip(starts, ends, strict=True))
    return pd.DataFrame(rate(series, config), columns=["idx", who, "_rating"])


def _elo(rows: pd.DataFrame, log: pd.DataFrame, who: str, name: str) -> pd.DataFrame:
    """Rating before the race: after the competitor's last race, carried into this season."""
    config = EloConfig()
    rated = _rated(log, who, config)
    rated["_season"] = rated["idx"].map(dict(zip(log["idx"], log["season"], strict=False)))
    rows = _asof(rows, rated, who, ["_rating", "_season"])
    rows[name] = [
        config.initial if np.isnan(r) else carried(r, int(s), int(season), config)
        for r, s, season in zip(rows["_rating"], rows["_season"], rows["season"], strict=True)
    ]
    return rows.drop(columns=["_rating", "_season"])


def _season_standing(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Points and place in the official table after the previous round of the same season."""
    table = frames.standings.merge(frames.races[["race_id", "idx", "season"]], on="race_id")
    table = table.rename(
        columns={
            "points": "season_points",
            "position": "championship_position",
            "season": "_season",
        }
    )
    rows = _asof(rows, table, "driver_id", ["season_points", "championship_position", "_season"])
    other = rows["_season"] != rows["season"]
    rows.loc[other, "season_points"] = 0.0
    rows.loc[other, "championship_position"] = np.nan
    return rows.drop(columns="_season")


def _circuit_history(rows: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """The driver's and the team's earlier results at this circuit."""
    by_circuit = log.sort_values(["driver_id", "circuit_ref", "idx"], kind="stable").copy()
    grouped = by_circuit.groupby(["driver_id", "circuit_ref"], sort=False)
    by_circuit["circuit_starts"] = grouped.cumcount() + 1
    by_circuit["circuit_mean_finish"] = (
        grouped["position_order"].cumsum() / by_circuit["circuit_starts"]
    )
    by_circuit["circuit_wins"] = grouped["won"].cumsum()
    rows = _asof(
        rows,
        by_circuit,
        ["driver_id", "circuit_ref"],
        ["circuit_starts", "circuit_mean_finish", "circuit_wins"],
    )
    rows[["circuit_starts", "circuit_wins"]] = rows[["circuit_starts", "circuit_wins"]].fillna(0)
    teams = _team_log(log).sort_values(["team_id", "circuit_ref", "idx"], kind="stable").copy()
    grouped = teams.groupby(["team_id", "circuit_ref"], sort=False)
    teams["team_circuit_mean_finish"] = grouped["position_order"].cumsum() / (
        grouped.cumcount() + 1
    )
    teams["team_circuit_wins"] = grouped["won"].cumsum()
    rows = _asof(
        rows, teams, ["team_id", "circuit_ref"], ["team_circuit_mean_finish", "team_circuit_wins"]
    )
    rows["team_circuit_wins"] = rows["team_circuit_wins"].fillna(0)
    return rows


def _teammates(rows: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
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
    rows = _asof(rows, per_race, "driver_id", ["_ahead", "_duels", "_season"])
    same = rows["_season"] == rows["season"]
    rows["teammate_h2h"] = np.where(same, rows["_ahead"] / rows["_duels"], np.nan)
    return rows.drop(columns=["_ahead", "_duels", "_season"])


def cutoffs(races: pd.DataFrame, stage: str) -> pd.Series:
    """Each race's cut-off for `stage` (UTC), by race_id, as warehouse/calendar.py's Weekend
    has it: pre_quali, the first session (the race − 2 days when none is known); post_quali,
    lights out. A session without a time starts at noon."""

    def start(day: str, time: str) -> pd.Series:
        clock = races[time].map(lambda t: NOON if t is None or t != t else t).astype(str)
        return pd.to_datetime(races[day], utc=True) + pd.to_timedelta(clock)

    race = start("date", "time")
    if spec_stage(stage).cutoff == "race":
        at = race
    else:
        sessions = pd.concat(
            [start(f"{k}_date", f"{k}_time") for k in SESSIONS if k != "race"], axis=1
        )
        at = sessions.min(axis=1).fillna(race - NO_PRACTICE)
    return pd.Series(at.to_numpy(), index=races["race_id"].to_numpy())


def _quali_log(frames: Frames) -> pd.DataFrame:
    """One row per (race, driver) with a qualifying lap: the best lap's gap to pole (% of the
    pole lap, capped at GAP_CAP) and to the teammate's best lap (% of pole)."""
    quali = frames.qualifying[["race_id", "driver_id", "team_id", "q1", "q2", "q3"]].copy()
    quali["best"] = quali[["q1", "q2", "q3"]].apply(lambda c: c.map(lap_ms)).min(axis=1)
    quali = quali.dropna(subset=["best"]).merge(frames.races[["race_id", "idx"]], on="race_id")
    pole = quali.groupby("race_id")["best"].transform("min")
    quali["gap"] = ((quali["best"] - pole) / pole * 100).clip(upper=GAP_CAP)
    team = quali.groupby(["race_id", "team_id"])["gap"]
    others = (team.transform("sum") - quali["gap"]) / (team.transform("count") - 1)
    quali["mate"] = (quali["gap"] - others).where(team.transform("count") > 1)
    return quali


def _rolling(log: pd.DataFrame, who: str, source: str, n: int) -> np.ndarray:
    """Mean of `source` over each `who`'s last n rows up to and including this one (`log`
    sorted by who, then idx; missing values skipped)."""
    values = log[source].to_numpy(float)
    known = ~np.isnan(values)
    rank = log.groupby(who, sort=False).cumcount().to_numpy()
    first = np.arange(len(log)) - rank
    total = _trailing_mean(np.where(known, values, 0.0), first, n)
    count = _trailing_mean(known.astype(float), first, n)
    return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def _quali_pace(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """Qualifying pace of the driver (with his car), of the team's best car, and against the
    teammate, each a mean over the last races before this one."""
    quali = _quali_log(frames).sort_values(["driver_id", "idx"], kind="stable")
    quali["quali_pace3"] = _rolling(quali, "driver_id", "gap", 3)
    quali["teammate_quali_gap5"] = _rolling(quali, "driver_id", "mate", 5)
    rows = _asof(rows, quali, "driver_id", ["quali_pace3", "teammate_quali_gap5"])
    best = pd.DataFrame(quali.groupby(["race_id", "team_id", "idx"], as_index=False)["gap"].min())
    best = best.sort_values(["team_id", "idx"], kind="stable").reset_index(drop=True)
    best["team_quali_pace3"] = _rolling(best, "team_id", "gap", 3)
    return _asof(rows, best, "team_id", ["team_quali_pace3"])


def _pit_stops(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """The team's pit work: its median stop against the race's median stop (seconds), mean
    over its last 3 races with stops. Stops over MAX_STOP_MS (a red flag's wait in the pit
    lane, a repair in the garage) are not pit work and are left out."""
    stops = frames.pit_stops[frames.pit_stops["milliseconds"] <= MAX_STOP_MS]
    stops = stops.merge(frames.races[["race_id", "idx"]], on="race_id")
    if stops.empty:
        rows["team_pit_delta3"] = np.nan
        return rows
    race = stops.groupby("race_id")["milliseconds"].median()
    team = pd.DataFrame(
        stops.groupby(["race_id", "team_id", "idx"], as_index=False)["milliseconds"].median()
    )
    team["delta"] = (team["milliseconds"] - team["race_id"].map(race)) / 1000
    team = team.sort_values(["team_id", "idx"], kind="stable").reset_index(drop=True)
    team["team_pit_delta3"] = _rolling(team, "team_id", "delta", 3)
    return _asof(rows, team, "team_id", ["team_pit_delta3"])


def _race_pace(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
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
    per["race_pace3"] = _rolling(per, "driver_id", "pace", 3)
    return _asof(rows, per, "driver_id", ["race_pace3"])


def _weather(rows: pd.DataFrame, frames: Frames, stage: str) -> pd.DataFrame:
    """The latest forecast issued before the stage's cut-off (none: no weather)."""
    weather = frames.weather.assign(
        wet=lambda w: (w["condition"] != "dry").astype(float),
        issued_at=lambda w: pd.to_datetime(w["issued_at"], utc=True),
    )
    deadline = weather["race_id"].map(cutoffs(frames.races, stage))
    known = weather[weather["issued_at"] < deadline].sort_values("issued_at", kind="stable")
    latest = known.drop_duplicates("race_id", keep="last")
    return rows.merge(
        latest[["race_id", "air_temperature_c", "precipitation_mm", "wet"]],
        on="race_id",
        how="left",
    )


def lap_ms(text: object) -> float:
    """A lap time like `1:29.179` (or `89.179`) in milliseconds; NaN when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return np.nan
    minutes, _, seconds = text.rpartition(":")
    try:
        return (int(minutes or 0) * 60 + float(seconds)) * 1000
    except ValueError:
        return np.nan


def _qualifying(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    quali = frames.qualifying[["race_id", "driver_id", "position", "q1", "q2", "q3"]].copy()
    quali["best"] = quali[["q1", "q2", "q3"]].apply(lambda c: c.map(lap_ms)).min(axis=1)
    pole = quali.groupby("race_id")["best"].transform("min")
    quali["quali_gap_pct"] = (quali["best"] - pole) / pole * 100
    quali = quali.rename(columns={"position": "grid"})
    rows = rows.merge(
        quali[["race_id", "driver_id", "grid", "quali_gap_pct"]],
        on=["race_id", "driver_id"],
        how="left",
    )
    sprint = frames.sprints.drop_duplicates(["race_id", "driver_id"]).rename(
        columns={"position_order": "sprint_finish"}
    )
    return rows.merge(sprint, on=["race_id", "driver_id"], how="left")


def current_ratings(frames: Frames) -> dict[str, dict[int, float]]:
    """Every driver's and team's ELO after the last race with results, carried into the
    latest season on the calendar: `{"driver": {driver_id: elo}, "team": {team_id: elo}}`."""
    config = EloConfig()
    log = _driver_log(frames)
    season = int(frames.races["season"].max()) if not frames.races.empty else 0
    out: dict[str, dict[int, float]] = {}
    for kind, source, who in (("driver", log, "driver_id"), ("team", _team_log(log), "team_id")):
        rated = _rated(source, who, config)
        rated["_season"] = rated["idx"].map(
            dict(zip(source["idx"], source["season"], strict=False))
        )
        latest = rated.sort_values("idx", kind="stable").drop_duplicates(who, keep="last")
        out[kind] = {
            int(c): carried(r, int(s), season, config)
            for c, r, s in zip(latest[who], latest["_rating"], latest["_season"], strict=True)
        }
    return out
