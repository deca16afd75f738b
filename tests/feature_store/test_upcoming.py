"""The next race before its qualifying is in the published build (its entrants the current
line-ups), so no request builds features from the whole history; the service holds the build
in memory and follows a new one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from feature_store.online import get_entry_features, published
from feature_store.store import Manifest, read_offline
from feature_store.view import NAME
from models.inputs import inputs
from pipelines.features import build_features, publish_build
from warehouse.db import make_engine


def _add_race(engine, season: int, round_: int, date: dt.date) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        circuit = connection.execute(text("SELECT id FROM circuits WHERE ref = 'bahrain'"))
        connection.execute(
            text(
                "INSERT INTO races (season, round, circuit_id, name, date) "
                "VALUES (:s, :r, :c, 'Test Grand Prix', :d)"
            ),
            {"s": season, "r": round_, "c": circuit.scalar_one(), "d": date},
        )


def test_the_next_race_is_published_with_the_current_lineups(
    history_copy: Path, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{history_copy}")
    _add_race(engine, 2025, 1, dt.date(2025, 3, 16))
    _add_race(engine, 2025, 2, dt.date(2025, 3, 23))
    root = tmp_path / NAME
    # before any build: the rows built on the spot from the warehouse (the slow path)
    on_the_spot = get_entry_features(engine, 2025, 1, "pre_quali", root)
    manifest = publish_build(build_features(engine, root), root)
    pre = read_offline("pre_quali", root)
    stored = pre[(pre["season"] == 2025) & (pre["round"] == 1)].reset_index(drop=True)
    lineup = pre[(pre["season"] == 2024) & (pre["round"] == 24)]
    assert sorted(stored["driver_ref"]) == sorted(lineup["driver_ref"]) and len(stored) == 20
    pd.testing.assert_frame_equal(stored, on_the_spot, check_dtype=False)
    # only the next race; the grid-knowing stage has no rows before the qualifying
    assert pre[pre["season"] == 2025]["round"].unique().tolist() == [1]
    post = read_offline("post_quali", root)
    assert post[post["season"] == 2025].empty
    assert manifest.stages["pre_quali"]["last"] == [2025, 1]
    # the service's lookup reads it from memory: the same rows
    held = published(root, manifest)
    assert held.build_id == manifest.build_id
    from_memory = get_entry_features(engine, 2025, 1, "pre_quali", root)
    pd.testing.assert_frame_equal(from_memory, stored, check_dtype=False)  # refs as str

    # the qualifying arrives (the 2024 finale's order, for the test): an incremental build
    # gives the race its qualifying entrants at both stages and the in-memory store follows
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO qualifying_results (race_id, driver_id, team_id, number, position,"
                " q1, q2, q3) SELECT (SELECT id FROM races WHERE season = 2025 AND round = 1),"
                " q.driver_id, q.team_id, q.number, q.position, q.q1, q.q2, q.q3"
                " FROM qualifying_results q JOIN races r ON r.id = q.race_id"
                " WHERE r.season = 2024 AND r.round = 24"
            )
        )
    again = publish_build(build_features(engine, root, after=(2025, 1)), root)
    assert again.build_id != manifest.build_id
    rows = get_entry_features(engine, 2025, 1, "post_quali", root)
    assert len(rows) == 20 and rows["grid"].notna().all()
    assert published(root, Manifest.read(root)).build_id == again.build_id  # type: ignore[arg-type]
    pre = read_offline("pre_quali", root)
    assert len(pre[pre["season"] == 2025]) == 20  # replaced, not added to
    engine.dispose()


@pytest.mark.parametrize("stage", ["pre_quali", "post_quali"])
def test_logit_inputs_are_compared_within_each_race(stage: str) -> None:
    """Two races of two entrants: each input against its own race's best; an unknown
    qualifying pace counts as the field's worst, or the cap when nobody's is known; the
    carried team rating counts by the square of its agreement with the grid (none when it
    disagrees or is unknown); this season's pace by n / (n + 3) after n races."""
    frame = pd.DataFrame(
        {
            "race_id": [7, 7, 9, 9],
            "driver_skill": [1900.0, 1700.0, 1500.0, np.nan],
            "team_elo": [1800.0, 1600.0, 1600.0, 1400.0],
            "team_elo_era": [1500.0, 1550.0, 1600.0, 1400.0],
            "team_elo_agreement": [0.5, 0.5, -0.3, -0.3],
            "team_season_gap": [0.4, 1.0, np.nan, np.nan],
            "round_number": [4.0, 4.0, 1.0, 1.0],
            "era_opening": [0.7, 0.7, 0.0, 0.0],
            "quali_pace3": [0.5, np.nan, np.nan, np.nan],
            "team_quali_pace3": [0.2, 1.2, 0.0, 0.3],
            "form5_points": [18.0, 8.0, np.nan, 2.0],
            "season_points": [50.0, 0.0, 10.0, 35.0],
            "form5_dnf": [0.2, np.nan, 0.0, 0.4],
            "grid": [1.0, 4.0, 2.0, 0.0],
            "quali_gap_pct": [0.0, 1.5, np.nan, 30.0],
        }
    )
    x = inputs(frame, stage)
    assert x["driver_skill_vs_best"].tolist() == [0.0, -2.0, 0.0, -15.0]  # unknown: 0
    assert x["team_elo_era_vs_best"].tolist() == [-0.5, 0.0, 0.0, -2.0]
    # 3 races run: weight 3 / 6; the season's first race: none yet
    assert x["team_season_pace"].tolist() == pytest.approx([0.0, 0.3, 0.0, 0.0])
    if stage == "pre_quali":
        assert x["quali_pace_vs_best"].tolist() == [0.0, 0.0, 0.0, 0.0]
        assert x["team_quali_pace_vs_best"].tolist() == pytest.approx([0.0, 1.0, 0.0, 0.3])
        assert x["form5_points_vs_best"].tolist() == [0.0, -1.0, -0.2, 0.0]
        assert x["season_points_vs_best"].tolist() == [0.0, -2.0, -1.0, 0.0]
        assert x["form5_dnf"].tolist() == [0.2, 0.0, 0.0, 0.4]
    else:
        assert x["neg_log_grid"].tolist() == pytest.approx([0, -np.log(4), -np.log(2), 0])
        assert x["pole"].tolist() == [1.0, 0.0, 0.0, 1.0]  # no grid slot (0): back to 1
        assert x["quali_gap"].tolist() == [0.0, 1.5, 10.0, 10.0]
        assert x["team_elo_agreed"].tolist() == pytest.approx([0.0, -0.5, 0.0, 0.0])
        assert x["grid_new_era"].tolist() == pytest.approx([0, -np.log(4) * 0.7, 0, 0])
