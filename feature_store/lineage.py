"""Team lineage: the entry a team's results belong to, through its declared renames.

A row of `team_lineage` says that from `from_season` on, a team continues its predecessor's
entry (Racing Point → Aston Martin in 2021). A team's entry in a season is found by following
the rows back: the team's latest row starting at or before the season names the predecessor,
whose own entry is looked up in the season before that row started; a team with no such row is
the root of its entry. Team histories (ratings, pace, circuit record) are kept per entry, so a
renamed team keeps them and a genuinely new team starts without any.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def entry_resolver(lineage: pd.DataFrame) -> dict[int, list[tuple[int, int]]]:
    """The declared renames as {team_id: [(from_season, predecessor_id), …]} (newest last)."""
    rows: dict[int, list[tuple[int, int]]] = {}
    ordered = lineage.sort_values("from_season", kind="stable")
    for team, season, predecessor in zip(
        ordered["team_id"], ordered["from_season"], ordered["predecessor_id"], strict=True
    ):
        rows.setdefault(int(team), []).append((int(season), int(predecessor)))
    return rows


def entry_of(renames: dict[int, list[tuple[int, int]]], team: int, season: int) -> int:
    """The root team of `team`'s entry in `season` (each step goes back at least one season,
    so even a circular declaration ends)."""
    while True:
        earlier = [(start, before) for start, before in renames.get(team, []) if start <= season]
        if not earlier:
            return team
        start, team = earlier[-1]
        season = start - 1


def entries(lineage: pd.DataFrame, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The entry of every (team_id, season) pair."""
    renames = entry_resolver(lineage)
    return {(t, s): entry_of(renames, t, s) for t, s in set(pairs)}


def with_entry(frame: pd.DataFrame, lineage: pd.DataFrame, season: pd.Series) -> pd.DataFrame:
    """`frame` (with `team_id`) and its `entry_id`, the season of each row given."""
    teams = frame["team_id"].astype(int).tolist()
    seasons = season.astype(int).tolist()
    found = entries(lineage, zip(teams, seasons, strict=True))
    return frame.assign(entry_id=[found[(t, s)] for t, s in zip(teams, seasons, strict=True)])
