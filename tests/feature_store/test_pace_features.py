"""Qualifying pace (over the last races and this season), pit-stop features and the grid's
agreement with the team ratings, worked out from the raw tables for Norris before the 2024
Austrian GP (round 11), and their as-of rule: this race's own qualifying and stops never move
the history features, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sqlalchemy import text

from feature_store.build import build_views
from feature_store.frames import load_frames

SEASON, ROUND = 2024, 11


def _seconds(lap: object) -> float:
    if not isinstance(lap, str) or not lap:
        return np.nan
    minutes, _, seconds = lap.rpartition(":")
    return int(minutes or 0) * 60 + float(seconds)


def _quali(connection, rounds: list[int]) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    frame = pd.read_sql(
        text(
            "SELECT r.round, d.ref AS driver, t.ref AS team, q.q1, q.q2, q.q3 "
            "FROM qualifying_results q JOIN races r ON r.id = q.race_id "
            "JOIN drivers d ON d.id = q.driver_id JOIN teams t ON t.id = q.team_id "
            f"WHERE r.season = {SEASON} AND r.round IN ({', '.join(map(str, rounds))})"
        ),
        connection,
    )
    frame["best"] = frame[["q1", "q2", "q3"]].map(_seconds).min(axis=1)
    frame["gap"] = (frame["best"] / frame.groupby("round")["best"].transform("min") - 1) * 100
    return frame


def _norris(views: dict[str, pd.DataFrame], round_: int) -> pd.Series:
    rows = views["pre_quali"]
    return rows[
        (rows["season"] == SEASON) & (rows["round"] == round_) & (rows["driver_ref"] == "norris")
    ].iloc[0]


def test_pace_features_by_hand(history) -> None:
    views = build_views(load_frames(history))
    row = _norris(views, ROUND)
    with history.connect() as connection:
        season = _quali(connection, list(range(1, ROUND + 1)))
        quali = _quali(connection, list(range(6, ROUND)))
        stops = pd.read_sql(
            text(
                "SELECT r.round, t.ref AS team, p.milliseconds FROM pit_stops p "
                "JOIN races r ON r.id = p.race_id JOIN race_results rr ON rr.race_id = p.race_id "
                "AND rr.driver_id = p.driver_id JOIN teams t ON t.id = rr.team_id "
                f"WHERE r.season = {SEASON} AND r.round < {ROUND} AND r.round >= 7"
            ),
            connection,
        )
    norris = quali[quali["driver"] == "norris"].set_index("round")["gap"]
    piastri = quali[quali["driver"] == "piastri"].set_index("round")["gap"]
    mclaren = quali[quali["team"] == "mclaren"].groupby("round")["gap"].min()
    last3, last5 = [8, 9, 10], [6, 7, 8, 9, 10]
    assert row["quali_pace3"] == pytest.approx(norris[last3].mean(), abs=1e-9)
    assert row["team_quali_pace3"] == pytest.approx(mclaren[last3].mean(), abs=1e-9)
    assert row["teammate_quali_gap5"] == pytest.approx(
        (norris[last5] - piastri[last5]).mean(), abs=1e-9
    )
    # this season's pace of the car: McLaren's best gap in rounds 1–10, capped at 10 %
    best = season[season["team"] == "mclaren"].groupby("round")["gap"].min().clip(upper=10)
    assert row["team_season_gap"] == pytest.approx(best[best.index < ROUND].mean(), abs=1e-9)
    # how well the carried team ratings agree with this race's qualifying order
    post = views["post_quali"]
    race = post[(post["season"] == SEASON) & (post["round"] == ROUND)]
    rho = spearmanr(race["team_elo"], -race["grid"]).statistic
    assert race["team_elo_agreement"].tolist() == pytest.approx([rho] * len(race), abs=1e-12)
    assert 0.3 < rho < 1  # 2024: the ratings knew the order, not exactly
    stops = stops[stops["milliseconds"] <= 120_000]
    race_median = stops.groupby("round")["milliseconds"].median()
    team_median = stops[stops["team"] == "mclaren"].groupby("round")["milliseconds"].median()
    delta = ((team_median - race_median) / 1000).dropna()
    assert row["team_pit_delta3"] == pytest.approx(delta.sort_index().iloc[-3:].mean(), abs=1e-9)


def test_a_race_own_qualifying_and_stops_move_only_later_races(history) -> None:
    before = build_views(load_frames(history))
    with history.connect() as connection:
        race = connection.scalar(
            text(f"SELECT id FROM races WHERE season = {SEASON} AND round = {ROUND}")
        )
        connection.rollback()
        transaction = connection.begin()
        try:
            connection.execute(
                text(
                    "UPDATE qualifying_results SET q1 = '1:59.999', q2 = NULL, q3 = NULL "
                    "WHERE race_id = :r AND driver_id = "
                    "(SELECT id FROM drivers WHERE ref = 'norris')"
                ),
                {"r": race},
            )
            connection.execute(  # McLaren's stops 9 s slower
                text(
                    "UPDATE pit_stops SET milliseconds = milliseconds + 9000 WHERE race_id = :r "
                    "AND driver_id IN (SELECT driver_id FROM race_results WHERE race_id = :r "
                    "AND team_id = (SELECT id FROM teams WHERE ref = 'mclaren'))"
                ),
                {"r": race},
            )
            after = build_views(load_frames(connection))
        finally:
            transaction.rollback()
    columns = [
        "quali_pace3",
        "team_quali_pace3",
        "teammate_quali_gap5",
        "team_pit_delta3",
        "team_season_gap",
    ]
    assert _norris(after, ROUND)[columns].equals(_norris(before, ROUND)[columns])
    moved = _norris(after, ROUND + 1)[columns] != _norris(before, ROUND + 1)[columns]
    assert moved.all(), moved
