"""Entrants are the qualifying list and the season's line-up: a driver with no qualifying row
who starts the race (no time set, a pit-lane start) is forecast, placed at the back, on SQLite
and PostgreSQL. Had he won, the race would be scored at his real chance, not at 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import text

from feature_store.build import build_views
from feature_store.frames import load_frames, read_sql
from models.ensemble import Ensemble, Recipe
from models.metrics import score
from pipelines.training_data import LABELS

SEASON, ROUND, DRIVER = 2024, 24, "hulkenberg"


def test_a_pit_lane_starter_without_a_time_is_forecast_from_the_back(history) -> None:
    with history.connect() as connection:
        transaction = connection.begin()
        try:
            # Abu Dhabi 2024 as if Hülkenberg had set no time and started from the pit lane
            connection.execute(
                text(
                    "DELETE FROM qualifying_results WHERE driver_id = "
                    "(SELECT id FROM drivers WHERE ref = :d) AND race_id = "
                    "(SELECT id FROM races WHERE season = :s AND round = :r)"
                ),
                {"d": DRIVER, "s": SEASON, "r": ROUND},
            )
            views = build_views(load_frames(connection))
            labels = read_sql(connection, LABELS)
        finally:
            transaction.rollback()
    for stage, rows in views.items():
        race = rows[(rows["season"] == SEASON) & (rows["round"] == ROUND)]
        assert len(race) == 20 and (race["driver_ref"] == DRIVER).sum() == 1, stage
    post = views["post_quali"]
    race = post[(post["season"] == SEASON) & (post["round"] == ROUND)].reset_index(drop=True)
    him = race.index[race["driver_ref"] == DRIVER][0]
    others = race["grid"].drop(index=him)
    assert others.is_unique and others.max() <= 20  # the 19 on the list keep their slots
    assert race.at[him, "grid"] == others.max() + 1 and np.isnan(race.at[him, "quali_gap_pct"])
    assert race.at[him, "team_ref"] == "haas"  # his team from the previous race

    rows = post.merge(labels[["race_id", "driver_id", "won"]], on=["race_id", "driver_id"])
    train = rows[(rows["season"] >= 2014) & (rows["season"] < SEASON)]
    model = Ensemble(Recipe("post_quali")).fit(train.assign(won=train["won"].fillna(0)))
    chance = model.forecast(race)
    assert abs(chance.sum() - 1) < 1e-9
    assert 1e-4 < chance[him] < chance.max()  # a real, small chance from the back
    # had he won, the race is scored once, at that chance
    scored = race.assign(won=(race.index == him).astype(int), p=chance)
    result = score(pd.DataFrame(scored), "p")
    assert result["races"] == 1 and result["log_loss"] == -np.log(chance[him])
