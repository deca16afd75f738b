"""Features of a race built from a warehouse cut off at the race's start equal those built
from the full warehouse, for races drawn from every era, on SQLite and PostgreSQL."""

from __future__ import annotations

import random

import pandas as pd
from sqlalchemy import Connection, text

from feature_store.build import build_views
from feature_store.frames import load_frames

AFTER = ("race_results", "driver_standings", "constructor_standings", "pit_stops")
CHILDREN = (
    *AFTER,
    "qualifying_results",
    "sprint_results",
    "weather",
    "predictions",
    "prediction_accuracy",
)


def _races_from_every_era(
    connection: Connection, per_decade: int = 2
) -> list[tuple[int, int, int]]:
    rows = connection.execute(text("SELECT id, season, round FROM races")).all()
    rng = random.Random(2024)
    chosen = []
    for decade in range(1950, 2030, 10):
        pool = [r for r in rows if decade <= r.season < decade + 10]
        chosen += rng.sample(pool, min(per_decade, len(pool)))
    # and the sprint weekends, where the sprint is known before the race starts
    sprints = connection.execute(
        text(
            "SELECT DISTINCT r.id, r.season, r.round FROM races r JOIN sprint_results s "
            "ON s.race_id = r.id"
        )
    ).all()
    chosen += rng.sample(sprints, 2)
    return [(r.id, r.season, r.round) for r in chosen]


def _cut_at_start_of(connection: Connection, race_id: int, season: int, round_: int) -> None:
    """Delete the race's own outcome and everything of later races but their place in the
    calendar, which is published before the season (inside the caller's transaction)."""
    later = (
        f"(SELECT id FROM races WHERE season > {season} "
        f"OR (season = {season} AND round > {round_}))"
    )
    for table in CHILDREN:
        connection.execute(text(f"DELETE FROM {table} WHERE race_id IN {later}"))
    for table in AFTER:
        connection.execute(text(f"DELETE FROM {table} WHERE race_id = {race_id}"))


def test_features_of_a_race_do_not_depend_on_anything_after_its_start(history) -> None:
    full = build_views(load_frames(history))
    with history.connect() as connection:
        races = _races_from_every_era(connection)
        connection.rollback()  # end the reading transaction; each cut gets its own
        assert len({season // 10 for _, season, _ in races}) == 8  # 1950s … 2020s
        for race_id, season, round_ in races:
            transaction = connection.begin()
            try:
                _cut_at_start_of(connection, race_id, season, round_)
                cut = build_views(load_frames(connection))
            finally:
                transaction.rollback()
            for stage, frame in full.items():
                expected = frame[frame["race_id"] == race_id].reset_index(drop=True)
                got = cut[stage][cut[stage]["race_id"] == race_id].reset_index(drop=True)
                assert len(expected) > 0, (season, round_)
                pd.testing.assert_frame_equal(got, expected, obj=f"{season} R{round_} {stage}")


def test_a_race_result_changes_only_later_races(history) -> None:
    """The mirror image: change a race's result and the features of that race stay put."""
    before = build_views(load_frames(history))["pre_quali"]
    with history.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                text(
                    "UPDATE race_results SET position_order = 100 + position_order WHERE race_id = "
                    "(SELECT id FROM races WHERE season = 2010 AND round = 5)"
                )
            )
            after = build_views(load_frames(connection))["pre_quali"]
        finally:
            transaction.rollback()
    key = before[["season", "round"]].apply(tuple, axis=1)
    same = key <= (2010, 5)
    pd.testing.assert_frame_equal(
        after[same.to_numpy()].reset_index(drop=True), before[same].reset_index(drop=True)
    )
    assert (
        not after[~same.to_numpy()]
        .reset_index(drop=True)
        .equals(before[~same].reset_index(drop=True))
    )
