"""Builds `race_entry_features_v1` from the warehouse, point in time.

Every history feature of race R comes from an as-of join on races strictly before R (by
season, round), so R's own result can never leak in, however complete the warehouse is. The
histories themselves are in feature_store/history.py, pace.py and ratings.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feature_store.eras import ERA_FADE_ROUNDS, ERA_STARTS, STREET_CIRCUITS
from feature_store.frames import Frames
from feature_store.history import (
    circuit_history,
    driver_log,
    form,
    season_standing,
    teammates,
)
from feature_store.lineage import with_entry
from feature_store.pace import best_lap, pit_stops, quali_pace, race_pace
from feature_store.practice import practice
from feature_store.ratings import agreement, ratings
from feature_store.view import IDENTITY, feature_names
from spec import STAGES
from spec import stage as spec_stage
from warehouse.calendar import NO_PRACTICE, NO_QUALI, NOON, SESSIONS

ENTRANT_COLUMNS = ["race_id", "driver_id", "driver_ref", "team_id", "team_ref", "position",
                   "q1", "q2", "q3"]  # fmt: skip


def build_views(
    frames: Frames, stages: tuple[str, ...] | None = None, entrants: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The view's rows per stage (default: every stage of the spec): one per entrant (default:
    `race_entrants` of every race)."""
    stages = stages or STAGES.names
    base = _base(frames, race_entrants(frames) if entrants is None else entrants)
    views = {}
    for stage in stages:
        known = spec_stage(stage)
        rows = _qualifying(base, frames) if known.uses("qualifying") else base.copy()
        if known.uses("practice"):
            rows = practice(rows, frames)
        rows = _weather(rows, frames, stage)
        rows["stage"] = stage
        names = feature_names(stage)
        out = rows[[*IDENTITY, "stage", *names]].copy()
        out[names] = out[names].astype(float)
        views[stage] = out
    return views


def knows_race(frames: Frames, stage: str, race_id: int) -> bool:
    """Whether the warehouse holds the evidence whose arrival opens `stage` for the race: its
    qualifying (a stage that opens at qualifying), its practice (one that opens after
    practice); a stage that opens before the weekend needs nothing of it. Evidence of an
    earlier stage may be missing (a race without practice rows still has its grid)."""
    opens = spec_stage(stage).opens
    if opens == "qualifying":
        return bool((frames.qualifying["race_id"] == race_id).any())
    if opens == "practice":
        return bool((frames.practice["race_id"] == race_id).any())
    return True


def race_entrants(frames: Frames, race_ids: list[int] | None = None) -> pd.DataFrame:
    """Each race's entrants, once it has a qualifying list: the list, and the season's line-up
    (the previous race of the season: who started it or was on its qualifying list) where a
    team has fewer cars on the list than it had there: a driver who set no time, or starts from
    the pit lane, is still an entrant. Those have no qualifying position (placed at the back).
    A race without a list has no entrants here (before its qualifying: `previous_lineup`)."""
    quali = frames.qualifying
    races = frames.races[frames.races["race_id"].isin(quali["race_id"])]
    if race_ids is not None:
        races = races[races["race_id"].isin(race_ids)]
    quali = quali[quali["race_id"].isin(races["race_id"])]
    previous = _previous_in_season(frames)
    lineup = pd.concat(
        [frames.qualifying[ENTRANT_COLUMNS[:5]], frames.results[ENTRANT_COLUMNS[:5]]]
    ).drop_duplicates(["race_id", "driver_id"])
    lineup = lineup.rename(columns={"race_id": "_previous"}).merge(
        previous[previous["race_id"].isin(races["race_id"])], on="_previous"
    )
    lineup = lineup.merge(quali[["race_id", "driver_id"]], on=["race_id", "driver_id"],
                          how="left", indicator=True)  # fmt: skip
    missing = lineup[lineup["_merge"] == "left_only"]
    if missing.empty:
        return quali[ENTRANT_COLUMNS].reset_index(drop=True)
    had, has = _cars(lineup), _cars(quali)
    short = (had - has.reindex(had.index, fill_value=0)).clip(lower=0)
    missing = missing.sort_values(["race_id", "team_id", "driver_id"], kind="stable")
    rank = missing.groupby(["race_id", "team_id"]).cumcount()
    room = short.reindex(pd.MultiIndex.from_frame(missing[["race_id", "team_id"]])).to_numpy()
    added = missing[rank.to_numpy() < room].assign(position=np.nan, q1=None, q2=None, q3=None)
    both = pd.concat([quali[ENTRANT_COLUMNS], added[ENTRANT_COLUMNS]], ignore_index=True)
    return both.sort_values(["race_id", "driver_id"], kind="stable").reset_index(drop=True)


def _cars(entries: pd.DataFrame) -> pd.Series:
    """Cars per (race, team)."""
    return entries.groupby(["race_id", "team_id"]).size()


def _previous_in_season(frames: Frames) -> pd.DataFrame:
    """(race_id, _previous): each race and the race before it in the same season."""
    races = frames.races.sort_values("idx")
    before = races.groupby("season")["race_id"].shift(1)
    return pd.DataFrame({"race_id": races["race_id"], "_previous": before}).dropna().astype(int)


class NoLineup(LookupError):
    """No race before the one asked about has a qualifying list to take the line-up from."""


def previous_lineup(frames: Frames, idx: int, race_id: int) -> pd.DataFrame:
    """The entrants of the latest earlier race that has a qualifying list, moved to `race_id`
    (a race's entrants before its qualifying: the current line-ups)."""
    earlier = frames.races[frames.races["idx"] < idx].sort_values("idx", ascending=False)
    for previous in earlier["race_id"]:
        lineup = race_entrants(frames, [int(previous)])
        if not lineup.empty:
            return lineup.assign(race_id=race_id, position=np.nan, q1=None, q2=None, q3=None)
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


def _base(frames: Frames, entrants: pd.DataFrame) -> pd.DataFrame:
    """Entrants with every feature both stages share."""
    races = frames.races
    rows = entrants.merge(races[["race_id", "season", "round", "idx", "circuit_ref"]], on="race_id")
    rows = rows.sort_values(["idx", "driver_id"], kind="stable").reset_index(drop=True)
    rows = with_entry(rows, frames.lineage, rows["season"])
    log = driver_log(frames)
    rows = ratings(rows, frames, log)
    rows = form(rows, log)
    rows = season_standing(rows, frames)
    rows = circuit_history(rows, log)
    rows = teammates(rows, log)
    rows = quali_pace(rows, frames)
    rows = pit_stops(rows, frames)
    rows = race_pace(rows, frames)
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


def cutoffs(races: pd.DataFrame, stage: str) -> pd.Series:
    """Each race's cut-off for `stage` (UTC), by race_id, as warehouse/calendar.py's Weekend
    has it: pre_quali, the first session (the race − 2 days when none is known);
    post_practice, qualifying (the race − 1 day when not known); post_quali, lights out. A
    session without a time starts at noon."""

    def start(day: str, time: str) -> pd.Series:
        clock = races[time].map(lambda t: NOON if t is None or t != t else t).astype(str)
        return pd.to_datetime(races[day], utc=True) + pd.to_timedelta(clock)

    race = start("date", "time")
    cutoff = spec_stage(stage).cutoff
    if cutoff == "race":
        at = race
    elif cutoff == "qualifying":
        at = start("quali_date", "quali_time").fillna(race - NO_QUALI)
    else:
        sessions = pd.concat(
            [start(f"{k}_date", f"{k}_time") for k in SESSIONS if k != "race"], axis=1
        )
        at = sessions.min(axis=1).fillna(race - NO_PRACTICE)
    return pd.Series(at.to_numpy(), index=races["race_id"].to_numpy())


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


def _qualifying(rows: pd.DataFrame, frames: Frames) -> pd.DataFrame:
    """This race's qualifying: grid slot (an entrant without one placed at the back, in
    entrant order), gap to pole, the sprint, and how well the team ratings agree with it."""
    quali = frames.qualifying[["race_id", "driver_id", "position", "q1", "q2", "q3"]].copy()
    quali["best"] = best_lap(quali)
    pole = quali.groupby("race_id")["best"].transform("min")
    quali["quali_gap_pct"] = (quali["best"] - pole) / pole * 100
    quali = quali.rename(columns={"position": "grid"})
    rows = rows.merge(
        quali[["race_id", "driver_id", "grid", "quali_gap_pct"]],
        on=["race_id", "driver_id"],
        how="left",
    )
    rows["team_elo_agreement"] = agreement(rows)  # on the qualifying order itself
    back = rows.groupby("race_id")["grid"].transform("max").fillna(0)
    behind = rows["grid"].isna().groupby(rows["race_id"]).cumsum()
    rows["grid"] = rows["grid"].fillna(back + behind)
    sprint = frames.sprints.drop_duplicates(["race_id", "driver_id"]).rename(
        columns={"position_order": "sprint_finish"}
    )
    return rows.merge(sprint, on=["race_id", "driver_id"], how="left")
