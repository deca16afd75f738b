"""Team lineage: a renamed team keeps its entry's history, a new team starts from what earlier
newcomers were worth; checked on the rename chains of the bundled history and on SQLite and
PostgreSQL warehouses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from feature_store.build import build_views
from feature_store.elo import EloConfig, carried
from feature_store.frames import Frames, load_frames, read_sql
from feature_store.lineage import entry_of, entry_resolver
from feature_store.ratings import current_ratings

IDS = {"toleman": 1, "benetton": 2, "renault": 3, "lotus_f1": 4, "alpine": 5, "haas": 6}
DECLARED = pd.DataFrame(
    [
        (IDS["benetton"], 1986, IDS["toleman"]),
        (IDS["renault"], 2002, IDS["benetton"]),
        (IDS["lotus_f1"], 2012, IDS["renault"]),
        (IDS["renault"], 2016, IDS["lotus_f1"]),
        (IDS["alpine"], 2021, IDS["renault"]),
    ],
    columns=["team_id", "from_season", "predecessor_id"],
)


def test_an_entry_is_followed_back_through_its_renames_by_season() -> None:
    renames = entry_resolver(DECLARED)
    toleman = IDS["toleman"]
    # Renault's own team of the 1980s is not the Benetton entry it bought in 2002
    assert entry_of(renames, IDS["renault"], 1983) == IDS["renault"]
    assert entry_of(renames, IDS["renault"], 2005) == toleman
    assert entry_of(renames, IDS["lotus_f1"], 2013) == toleman
    assert entry_of(renames, IDS["renault"], 2017) == toleman  # back again from Lotus
    assert entry_of(renames, IDS["alpine"], 2024) == toleman
    assert entry_of(renames, IDS["haas"], 2016) == IDS["haas"]  # new: its own entry


def test_a_circular_declaration_still_ends() -> None:
    circular = pd.DataFrame(
        [(1, 2000, 2), (2, 2000, 1)], columns=["team_id", "from_season", "predecessor_id"]
    )
    # 1 in 2001 → 2 as of 1999, which had no rename yet: each step goes back a season
    assert entry_of(entry_resolver(circular), 1, 2001) == 2


def _cut(frames: Frames, season: int) -> Frames:
    """The warehouse as it was after `season`: its races and their results only."""
    races = frames.races[frames.races["season"] <= season]
    keep = races["race_id"]

    def of(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["race_id"].isin(keep)]

    return Frames(
        races=races,
        results=of(frames.results),
        qualifying=of(frames.qualifying),
        sprints=of(frames.sprints),
        practice=of(frames.practice),
        standings=of(frames.standings),
        pit_stops=of(frames.pit_stops),
        lap_times=of(frames.lap_times),
        weather=of(frames.weather),
        lineage=frames.lineage,
    )


def _first_race(view: pd.DataFrame, season: int, team: str) -> pd.Series:
    rows = view[(view["season"] == season) & (view["team_ref"] == team)]
    return rows[rows["round"] == rows["round"].min()].iloc[0]


def test_a_renamed_team_keeps_its_rating_and_a_new_team_starts_below_the_field(history) -> None:
    frames = load_frames(history)
    view = build_views(frames, ("pre_quali",))["pre_quali"]
    # Aston Martin's first race carries Racing Point's rating after 2020 into 2021
    racing_point = read_sql(history, "SELECT id FROM teams WHERE ref = 'racing_point'")
    after_2020 = current_ratings(_cut(frames, 2020))["team"][int(racing_point["id"].iloc[0])]
    aston = _first_race(view, 2021, "aston_martin")
    assert aston["team_elo"] == pytest.approx(carried(after_2020, 2020, 2021, EloConfig()))
    assert after_2020 > 1550  # Racing Point was fourth in 2020: far from a newcomer
    # Haas (2016) and the three teams new in 2010 start at the newcomers' prior, below 1500,
    # the 2010 ones level with each other; Mercedes 2010 is Brawn's entry, not a newcomer
    haas = _first_race(view, 2016, "haas")["team_elo"]
    new_2010 = {
        t: _first_race(view, 2010, t)["team_elo"] for t in ("virgin", "lotus_racing", "hrt")
    }
    assert haas < 1500 and len(set(np.round(list(new_2010.values()), 9))) == 1
    assert new_2010["hrt"] < 1500
    assert _first_race(view, 2010, "mercedes")["team_elo"] > 1550  # the 2009 champions


def test_without_the_declared_rename_the_team_would_start_as_a_newcomer(history) -> None:
    with history.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text("DELETE FROM team_lineage WHERE team_ref = 'aston_martin'"))
            view = build_views(load_frames(connection), ("pre_quali",))["pre_quali"]
        finally:
            transaction.rollback()
    aston = _first_race(view, 2021, "aston_martin")["team_elo"]
    haas = _first_race(view, 2016, "haas")["team_elo"]
    assert aston < 1500 and aston == pytest.approx(
        _first_race(view, 2021, "aston_martin")["team_elo_era"]
    )
    assert haas < 1500
