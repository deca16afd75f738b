"""Drift checks on the real history: a race with deliberately shifted qualifying gaps is
flagged, stored, shown in /metrics' inputs and posted once; an ordinary race is not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import select, text

from feature_store.online import RaceRef
from feature_store.store import read_offline
from feature_store.view import SEASON_BEFORE, features
from pipelines import drift
from pipelines.drift import P_ALERT, check_drift, feature_drift
from pipelines.features import build_features, publish_build
from spec import STAGES
from tests.servers.webhook import Webhook
from warehouse.db import make_engine, session_factory
from warehouse.operations import latest_drift
from warehouse.schema import DriftCheck

WHEN = dt.datetime(2024, 12, 7, 16, tzinfo=dt.UTC)


def _window(stage: str, season: int, round_: int) -> pd.DataFrame:
    rows = read_offline(stage, since=season - 3)
    before = (rows["season"] < season) | ((rows["season"] == season) & (rows["round"] < round_))
    return rows[before]


def _race(engine, season: int, round_: int) -> RaceRef:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        race_id, name = connection.execute(
            text("SELECT id, name FROM races WHERE season = :s AND round = :r"),
            {"s": season, "r": round_},
        ).one()
    return RaceRef(race_id, season, round_, name)


def test_a_shifted_feature_is_flagged_and_an_ordinary_one_is_not(history_copy: Path) -> None:
    engine = make_engine()
    publish_build(build_features(engine))
    window = _window("pre_quali", 2024, 24)
    race = read_offline("pre_quali", since=2024).query("round == 24")
    names = drift.tested_features("pre_quali", window)
    # not tested: what every entrant shares (calendar, weather) or restarts each season
    assert "driver_elo" in names and "round_number" not in names and "wet" not in names
    assert not {f.name for f in features("pre_quali") if f.as_of == SEASON_BEFORE} & set(names)
    ordinary = {c["subject"]: c for c in feature_drift(window, race, ["driver_elo", "team_elo"])}
    assert not ordinary["driver_elo"]["alert"] and ordinary["driver_elo"]["p_value"] > P_ALERT
    shifted = race.assign(driver_elo=race["driver_elo"] + 600)
    flagged = feature_drift(window, shifted, ["driver_elo"])[0]
    assert flagged["alert"] and flagged["statistic"] > 0.8 and flagged["p_value"] < P_ALERT


def test_check_drift_stores_the_figures_and_posts_a_new_alert_once(
    history_copy: Path, webhook: Webhook
) -> None:
    engine = make_engine()
    race = _race(engine, 2024, 24)
    # the field qualifies 4–6 % off pole instead of within about 2 %
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT id, position FROM qualifying_results WHERE race_id = :r"),
            {"r": race.race_id},
        ).all()
        for ident, position in rows:
            seconds = 82.595 * (1 + (0 if position == 1 else 0.04 + position / 1000))
            lap = f"{int(seconds // 60)}:{seconds % 60:06.3f}"
            connection.execute(
                text("UPDATE qualifying_results SET q1 = :t, q2 = NULL, q3 = NULL WHERE id = :i"),
                {"t": lap, "i": ident},
            )
    publish_build(build_features(engine))

    summary = check_drift(engine, race, WHEN)
    assert "quali_gap_pct" in summary["post_quali"]["alerts"]
    assert "quali_gap_pct" not in summary["pre_quali"]["alerts"]  # not a pre_quali feature
    assert summary["pre_quali"]["checked"] >= 5
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert "Abu Dhabi" in post["text"] and "quali_gap_pct" in post["text"]
    with session_factory(engine)() as session:
        stored = session.scalars(
            select(DriftCheck).where(DriftCheck.race_id == race.race_id, DriftCheck.alert)
        ).all()
        assert {(c.stage, c.subject) for c in stored} >= {("post_quali", "quali_gap_pct")}
        assert {c.race_id for c in latest_drift(session)} == {race.race_id}
    # the same check again: figures kept, nothing posted twice
    again = check_drift(engine, race, WHEN + dt.timedelta(hours=1))
    assert again["post_quali"]["alerts"] == summary["post_quali"]["alerts"]
    assert len(webhook.posts) == 1
    with engine.connect() as connection:
        count = connection.scalar(
            text("SELECT count(*) FROM drift_checks WHERE race_id = :r"), {"r": race.race_id}
        )
    assert count == sum(summary[stage]["checked"] for stage in STAGES.names)
