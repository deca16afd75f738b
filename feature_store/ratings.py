"""Ratings from earlier races (feature_store/elo.py's rater): the driver's ELO over the whole
field, the team's ELO (its entry's, carried over the winter, and the same restarted level at
each new technical era), and the driver's skill from duels with his teammates only, where the
car cancels out. And, once this race's qualifying is known, how well the carried team ratings
agree with it.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from feature_store.elo import EloConfig, Rater, carried, carry_factor
from feature_store.eras import ERA_STARTS
from feature_store.frames import Frames
from feature_store.history import asof, driver_log, team_log
from feature_store.lineage import with_entry

DRIVER = EloConfig()
# A new team starts where earlier newcomers stood after their first season, not at the mean.
TEAM = EloConfig(newcomer_prior=True)
# The same, every team level again when a new technical era starts (the cars start afresh).
TEAM_ERA = EloConfig(newcomer_prior=True, era_carry=0.0, era_starts=ERA_STARTS)
# Beating the teammate says what the driver adds to the car; that outlasts a winter.
SKILL = EloConfig(k=32.0, carry=0.9)
AGREEMENT_MIN = 4  # entrants with a grid slot needed to measure the agreement


def rater(log: pd.DataFrame, who: str, config: EloConfig, by: str | None = None) -> Rater:
    """Rate every race of `log` (one row per competitor and race) in order; with `by`, each
    race is one duel per `by` group (teammates) instead of one race of everyone."""
    ordered = log.sort_values(["idx", *([by] if by else []), "position_order"], kind="stable")
    keys = ordered["idx"].to_numpy()
    if by:
        keys = pd.factorize(pd.MultiIndex.from_arrays([ordered["idx"], ordered[by]]))[0]
    idx, season, names = (ordered["idx"].to_numpy(), ordered["season"].to_numpy(),
                          ordered[who].tolist())  # fmt: skip
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]  # each race's (or duel's) first row
    ends = np.r_[starts[1:], len(keys)]
    rated = Rater(config)
    for a, b in zip(starts, ends, strict=True):
        if b - a >= (2 if by else 1):
            rated.race(int(idx[a]), int(season[a]), names[a:b])
    return rated


def rating_before(rows: pd.DataFrame, rated: Rater, who: str, name: str) -> pd.DataFrame:
    """Each row's `who` rating before its race: the last one after an earlier race carried into
    the row's season, else a newcomer's start value in that season."""
    log = pd.DataFrame(rated.log, columns=["idx", who, "_rating"])
    log["_season"] = log["idx"].map(rated.seasons)
    rows = asof(rows, log, who, ["_rating", "_season"])
    season = rows["season"].to_numpy(dtype=int)
    rating, last = rows["_rating"].to_numpy(dtype=float), rows["_season"].to_numpy()
    rated_before = ~np.isnan(rating)
    # carrying is linear in the rating: one factor per (last season, season) pair
    pairs = set(zip(last[rated_before].astype(int), season[rated_before], strict=True))
    factors = {pair: carry_factor(*pair, rated.config) for pair in pairs}
    factor = np.array(
        [factors[(int(a), int(b))] if known else 0.0
         for a, b, known in zip(np.nan_to_num(last), season, rated_before, strict=True)]
    )  # fmt: skip
    starts = {s: rated.newcomers.start_for(int(s)) for s in np.unique(season)}
    initial = rated.config.initial
    rows[name] = np.where(
        rated_before,
        initial + factor * (np.nan_to_num(rating) - initial),
        np.vectorize(starts.__getitem__, otypes=[float])(season) if len(season) else [],
    )
    return rows.drop(columns=["_rating", "_season"])


def ratings(rows: pd.DataFrame, frames: Frames, log: pd.DataFrame) -> pd.DataFrame:
    """driver_elo, team_elo, team_elo_era and driver_skill of each row (rows with entry_id)."""
    teams = team_log(log)
    rows = rating_before(rows, rater(log, "driver_id", DRIVER), "driver_id", "driver_elo")
    rows = rating_before(rows, rater(teams, "entry_id", TEAM), "entry_id", "team_elo")
    rows = rating_before(rows, rater(teams, "entry_id", TEAM_ERA), "entry_id", "team_elo_era")
    skill = rater(log, "driver_id", SKILL, by="entry_id")
    return rating_before(rows, skill, "driver_id", "driver_skill")


def agreement(rows: pd.DataFrame) -> np.ndarray:
    """Per row, its race's Spearman correlation between the entrants' carried team ELO and
    their qualifying order (1: the grid is in the order of the ratings; NaN with fewer than
    AGREEMENT_MIN entrants on the grid)."""
    has = rows["grid"].notna() & rows["team_elo"].notna()
    known = rows[has]
    by_race = known.groupby("race_id", sort=False)
    rating = by_race["team_elo"].rank()
    order = (-known["grid"]).groupby(known["race_id"], sort=False).rank()
    frame = pd.DataFrame({"race": known["race_id"], "a": rating, "b": order})
    frame = frame.assign(ab=frame["a"] * frame["b"], aa=frame["a"] ** 2, bb=frame["b"] ** 2)
    sums = frame.groupby("race").sum()
    n = frame.groupby("race").size()
    cov = sums["ab"] - sums["a"] * sums["b"] / n
    spread = np.sqrt((sums["aa"] - sums["a"] ** 2 / n) * (sums["bb"] - sums["b"] ** 2 / n))
    rho = (cov / spread.where(spread > 0)).where(n >= AGREEMENT_MIN)
    return rows["race_id"].map(rho).to_numpy(dtype=float)


def current_ratings(frames: Frames) -> dict[str, dict[int, float]]:
    """Every driver's and team's ELO after the last race with results, carried into the
    latest season on the calendar: `{"driver": {driver_id: elo}, "team": {team_id: elo}}`
    (a team is rated as its entry: a renamed team carries its predecessor's rating)."""
    log = driver_log(frames)
    season = int(frames.races["season"].max()) if not frames.races.empty else 0
    out: dict[str, dict[int, float]] = {}
    for kind, rated in (
        ("driver", rater(log, "driver_id", DRIVER)),
        ("team", rater(team_log(log), "entry_id", TEAM)),
    ):
        latest = cast(dict[int, tuple[float, int]], rated.state)  # keyed by ids
        out[kind] = {int(c): carried(r, s, season, rated.config) for c, (r, s) in latest.items()}
    teams = log.sort_values("idx", kind="stable").drop_duplicates("team_id", keep="last")
    teams = teams[["team_id", "season"]]
    entry = with_entry(teams, frames.lineage, teams["season"])
    out["team"] = {
        int(t): out["team"][int(e)]
        for t, e in zip(entry["team_id"], entry["entry_id"], strict=True)
        if int(e) in out["team"]
    }
    return out
