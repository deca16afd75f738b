"""The practice features (feature_store/practice.py) as of qualifying: a race's rows built from
a warehouse cut at its qualifying equal those built from everything; a session after
qualifying is not evidence; the gaps by hand. SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, text

from feature_store.build import build_views, race_entrants
from feature_store.frames import load_frames
from spec import POST_PRACTICE

STAGE = POST_PRACTICE.name
# (season, round): a normal weekend of each era the practice history covers, a 2021 sprint
# weekend (FP2 ran after qualifying) and a 2024 one (the sprint before qualifying)
RACES = ((1995, 4), (2008, 6), (2016, 11), (2021, 10), (2023, 12), (2024, 21))
# what a race's qualifying and later sessions write (a sprint: by its format, below)
AFTER_QUALI = ("race_results", "driver_standings", "constructor_standings", "pit_stops",
               "qualifying_results", "lap_times")  # fmt: skip
PRACTICE = ["fp_gap_pct", "fp_last_gap_pct", "fp_order", "fp_laps", "team_fp_gap_pct",
            "team_fp_conversion", "sprint_before_quali"]  # fmt: skip


def _race_id(connection: Connection, season: int, round_: int) -> int:
    return int(connection.execute(
        text("SELECT id FROM races WHERE season = :s AND round = :r"), {"s": season, "r": round_}
    ).scalar_one())  # fmt: skip


def _cut_at_qualifying(connection: Connection, race_id: int, season: int, round_: int) -> None:
    """Delete what is not known when the race's qualifying starts: its qualifying, sprint (when
    after it), result and standings, its practice after qualifying, and every later race's."""
    later = (
        f"(SELECT id FROM races WHERE season > {season} "
        f"OR (season = {season} AND round > {round_}))"
    )
    for table in (*AFTER_QUALI, "sprint_results", "practice_results"):
        connection.execute(text(f"DELETE FROM {table} WHERE race_id IN {later}"))
    for table in AFTER_QUALI:
        connection.execute(text(f"DELETE FROM {table} WHERE race_id = {race_id}"))
    if (season, round_) < (2024, 1):  # 2021–2023 sprints ran after qualifying
        connection.execute(text(f"DELETE FROM sprint_results WHERE race_id = {race_id}"))
    if (season, round_) == (2021, 10):  # Silverstone 2021: FP2 ran after qualifying
        connection.execute(
            text(f"DELETE FROM practice_results WHERE race_id = {race_id} AND session = 2")
        )  # fmt: skip


def test_practice_features_are_known_when_qualifying_starts(history) -> None:
    frames = load_frames(history)
    full = build_views(frames, (STAGE,))[STAGE]
    with history.connect() as connection:
        for season, round_ in RACES:
            race_id = _race_id(connection, season, round_)
            connection.rollback()
            transaction = connection.begin()
            try:
                _cut_at_qualifying(connection, race_id, season, round_)
                # the entrants as before qualifying: who is on the list, with no lap of it
                entrants = race_entrants(frames, [race_id]).assign(
                    position=float("nan"), q1=None, q2=None, q3=None
                )
                cut = build_views(load_frames(connection), (STAGE,), entrants)[STAGE]
            finally:
                transaction.rollback()
            expected = full[full["race_id"] == race_id].set_index("driver_id")[PRACTICE]
            got = cut[cut["race_id"] == race_id].set_index("driver_id")[PRACTICE]
            assert expected["fp_gap_pct"].notna().sum() >= 10, (season, round_)  # Spa 2023: wet FP1
            pd.testing.assert_frame_equal(
                got.loc[expected.index], expected, obj=f"{season} R{round_}"
            )


def test_gaps_by_hand_and_a_session_after_qualifying_left_out(history) -> None:
    frames = load_frames(history)
    rows = build_views(frames, (STAGE,))[STAGE]
    with history.connect() as connection:
        race_id = _race_id(connection, 2021, 10)  # FP1, qualifying, FP2, sprint, race
        fp = pd.read_sql(text(f"SELECT session, driver_id, milliseconds FROM practice_results "
                              f"WHERE race_id = {race_id}"), connection)  # fmt: skip
    fp1 = fp[fp["session"] == 1].set_index("driver_id")["milliseconds"].astype(float)
    gap = (fp1 - fp1.min()) / fp1.min() * 100  # FP1 alone: FP2 came after qualifying
    race = rows[rows["race_id"] == race_id].set_index("driver_id")
    assert set(fp["session"]) == {1, 2}
    gap = gap[gap.index.isin(race.index)]  # not an FP1 stand-in: the gaps are to his best too
    pd.testing.assert_series_equal(
        race.loc[gap.index, "fp_gap_pct"], gap.clip(upper=10), check_names=False
    )
    assert (race.loc[gap.index, "fp_last_gap_pct"] == race.loc[gap.index, "fp_gap_pct"]).all()
    assert race.loc[gap.idxmin(), "fp_order"] == 1
    # a normal weekend: FP3 counts 1, FP2 0.5, FP1 0.25 (SESSION_WEIGHTS)
    with history.connect() as connection:
        race_id = _race_id(connection, 2016, 11)
        fp = pd.read_sql(text(f"SELECT session, driver_id, milliseconds FROM practice_results "
                              f"WHERE race_id = {race_id} AND milliseconds IS NOT NULL"),
                         connection)  # fmt: skip
    best = fp.groupby("session")["milliseconds"].transform("min")
    fp["gap"] = ((fp["milliseconds"] - best) / best * 100).clip(upper=10)
    fp["w"] = fp["session"].map({3: 1.0, 2: 0.5, 1: 0.25})
    combined = (fp["gap"] * fp["w"]).groupby(fp["driver_id"]).sum() / fp.groupby("driver_id")[
        "w"
    ].sum()
    race = rows[rows["race_id"] == race_id].set_index("driver_id")
    combined = combined[combined.index.isin(race.index)]
    pd.testing.assert_series_equal(
        race.loc[combined.index, "fp_gap_pct"], combined, check_names=False
    )
