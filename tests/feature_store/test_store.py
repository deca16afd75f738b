"""Offline store builds, publication, incremental reports and the online lookup."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from feature_store.online import NoEntrants, get_entry_features
from feature_store.store import Manifest, read_offline
from feature_store.view import FEATURES, NAME, feature_names
from pipelines.features import build_features, publish_build


def test_a_build_is_staged_then_published_and_a_rebuild_changes_nothing(
    history, tmp_path: Path
) -> None:
    root = tmp_path / NAME
    build = build_features(history, root)
    assert Manifest.read(root) is None  # staged only
    manifest = publish_build(build, root)
    assert manifest.build_id == build.build_id and manifest.view == NAME
    assert manifest.stages["post_quali"]["rows"] == 28156
    assert manifest.stages["post_quali"]["last"] == [2024, 24]
    assert len(build.races) == 1125

    post = read_offline("post_quali", root)
    assert list(post.columns[-4:]) == [
        "grid",
        "quali_gap_pct",
        "team_elo_agreement",
        "sprint_finish",
    ]
    for feature in FEATURES:
        if "post_quali" in feature.stages and not feature.nullable:
            assert post[feature.name].notna().all(), feature.name

    again = build_features(history, root)
    assert again.build_id == build.build_id and again.races == []


def test_a_changed_race_is_reported_with_every_later_race_it_moves(history, tmp_path) -> None:
    root = tmp_path / NAME
    publish_build(build_features(history, root), root)
    with history.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(
                text(
                    "UPDATE race_results SET points = points + 1 WHERE position = 1 AND race_id = "
                    "(SELECT id FROM races WHERE season = 2024 AND round = 22)"
                )
            )
            build = build_features(connection, root)
        finally:
            transaction.rollback()
    assert build.races and min(build.races) == (2024, 23)  # R22's own features are unchanged


def test_the_online_lookup_reads_the_store_or_builds_the_next_race(history, tmp_path: Path) -> None:
    root = tmp_path / NAME
    publish_build(build_features(history, root), root)
    stored = get_entry_features(history, 2024, 24, "post_quali", root)
    assert len(stored) == 20 and stored.sort_values("grid")["driver_ref"].iat[0] == "norris"
    assert list(stored.columns[8:]) == feature_names("post_quali")

    with history.connect() as connection:
        transaction = connection.begin()
        try:  # a 2025 opener in the calendar, nobody qualified yet
            connection.execute(
                text(
                    "INSERT INTO races (season, round, circuit_id, name, date) SELECT 2025, 1, "
                    "circuit_id, 'Australian Grand Prix', '2025-03-16' FROM races "
                    "WHERE season = 2024 AND round = 3"
                )
            )
            # the lookup reads through our transaction
            upcoming = get_entry_features(connection, 2025, 1, "pre_quali", root)
            with pytest.raises(NoEntrants, match="has no qualifying yet"):
                get_entry_features(connection, 2025, 1, "post_quali", root)
        finally:
            transaction.rollback()
    assert sorted(upcoming["driver_ref"]) == sorted(stored["driver_ref"])  # last race's lineup
    assert (upcoming["season"] == 2025).all() and (upcoming["races_left"] == 0).all()
    assert (upcoming["season_points"] == 0).all()  # a new season starts from zero
    with pytest.raises(NoEntrants, match="not in the warehouse"):
        get_entry_features(history, 2031, 1, "pre_quali", root)


def test_training_reads_seasons_from_the_store(history, tmp_path: Path) -> None:
    root = tmp_path / NAME
    with pytest.raises(FileNotFoundError, match="run `f1 features build`"):
        read_offline("pre_quali", root)
    publish_build(build_features(history, root), root)
    recent = read_offline("pre_quali", root, since=2020)
    assert set(recent["season"]) == {2020, 2021, 2022, 2023, 2024}
    assert isinstance(recent, pd.DataFrame) and "grid" not in recent.columns


def test_the_incremental_build_after_new_rounds_equals_a_full_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an ingest of rounds 18–24 (the season's calendar was known), only the rows from
    round 18 on are computed, the rows before are kept as published, and the result is the
    full build's, row for row."""
    from pipelines.snapshot import BUNDLED, load_snapshot
    from replay.tables import cut_before, read_folders, write_folder
    from warehouse.db import make_engine
    from warehouse.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    upgrade(engine)
    everything = read_folders([BUNDLED])
    before = cut_before(everything, 2024, 18)
    before["races.csv"] = everything["races.csv"]  # the whole calendar, results up to R17
    load_snapshot(engine, write_folder(before, tmp_path / "cut"))
    incremental, full = tmp_path / "incremental" / NAME, tmp_path / "full" / NAME
    publish_build(build_features(engine, incremental), incremental)
    load_snapshot(engine, BUNDLED)  # rounds 18–24 arrive

    build = build_features(engine, incremental, after=(2024, 18))
    reference = build_features(engine, full)

    assert build.build_id == reference.build_id  # the same content, hashed
    assert build.races == [(2024, r) for r in range(18, 25)]
    for stage in ("pre_quali", "post_quali"):
        got = pd.read_parquet(build.staging / f"{stage}.parquet")
        want = pd.read_parquet(reference.staging / f"{stage}.parquet")
        order = ["race_id", "driver_id"]
        pd.testing.assert_frame_equal(
            got.sort_values(order).reset_index(drop=True),
            want.sort_values(order).reset_index(drop=True),
        )
    engine.dispose()
