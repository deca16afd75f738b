"""The finishing-order markets in the online evidence: stored before a race from the registry's
real models, scored per market after it, and the championship odds stored once however many
writers store them at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select, text

import spec
from feature_store.online import RaceRef
from models.market_baselines import EPS
from models.pyfunc import LoadedModel
from models.registry import load_version
from pipelines.markets import market_scores, score_markets, store_odds, update_championship
from pipelines.promote import market_problems, offline_gate, sanity_rows
from pipelines.score import store_predictions
from pipelines.train_order import train_order
from spec import STAGES
from warehouse.db import make_engine, session_factory
from warehouse.schema import (
    ChampionshipOdds,
    MarketAccuracy,
    MarketPrediction,
    Prediction,
    PredictionAccuracy,
    Race,
    RaceResult,
)


def test_market_scores_of_a_race_forecast_with_certainty() -> None:
    """Four entrants, two teams: A won, B second, C did not finish, D did not start (absent
    from the result: not classified). The forecast was certain and right about A, B and C,
    certain and wrong about D (third)."""
    stored = pd.DataFrame(
        {
            "driver_id": [1, 2, 3, 4],
            "positions": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]],
            "team_ahead": [1.0, 0.0, 0.5, 0.5],
        }
    )
    result = pd.DataFrame(
        {
            "driver_id": [1, 2, 3],
            "team_id": [10, 10, 20],
            "position": [1, 2, None],
            "finish_order": [1, 2, 3],
        }
    )
    scores = market_scores(stored, result, paying=10)
    wrong = -math.log(EPS) / 4  # one certain miss among four entrants
    assert scores["win"]["brier"] == 0 and scores["win"]["log_loss"] < 1e-5
    assert scores["podium"]["brier"] == pytest.approx(0.25)  # D: podium 1, did not start
    assert scores["podium"]["log_loss"] == pytest.approx(wrong, rel=1e-4)
    assert scores["dnf"]["brier"] == pytest.approx(0.25)
    assert scores["points"]["brier"] == pytest.approx(0.25)
    assert scores["position"]["log_loss"] == pytest.approx(wrong, rel=1e-4)
    assert scores["position"]["brier"] == pytest.approx(2 / 4)  # D: two categories off by 1
    # D's cumulative forecast is 1 from the third place on; it happened at "not classified"
    assert scores["position"]["rps"] == pytest.approx((2 / 4) / 4)
    assert all(s["events"] == 4 for m, s in scores.items() if m != "h2h")
    # team 10: A ahead of B as forecast (p 1.0); team 20's pair is void: D did not start
    assert scores["h2h"] == {
        "log_loss": pytest.approx(-math.log(1 - EPS)),
        "brier": 0.0,
        "rps": None,
        "events": 1,
    }


@pytest.fixture
def evidence(history, registry: dict, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The shared history warehouse with the session registry's models; what the test stores
    is removed after it."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry["env"]["MLFLOW_TRACKING_URI"])
    monkeypatch.setenv("F1_HOME", registry["env"]["F1_HOME"])
    for name in spec.model_names():
        registry["set_aliases"](name, "1", None)
    registry["set_aliases"]("f1_winner_post_quali", "2", None)

    def clear() -> None:
        with history.begin() as connection:
            for table in (MarketAccuracy, MarketPrediction, PredictionAccuracy, Prediction):
                connection.execute(delete(table))

    clear()  # whatever an earlier test of the shared warehouse left
    yield history
    clear()


def test_markets_stored_before_the_race_and_scored_per_market_after(evidence: Any) -> None:
    engine = evidence
    with session_factory(engine)() as session:
        race = session.execute(
            select(Race.id, Race.season, Race.round, Race.name).where(
                Race.season == 2024, Race.round == 24
            )
        ).one()
    stored = store_predictions(engine, RaceRef(*race))
    assert {stored[f"f1_order_{stage} v1"] for stage in STAGES.names} == {20}
    with session_factory(engine)() as session:
        markets = session.scalars(
            select(MarketPrediction).where(
                MarketPrediction.stage == "post_quali", MarketPrediction.race_id == race.id
            )
        ).all()
        winner = dict(
            session.execute(
                select(Prediction.driver_id, Prediction.probability).where(
                    Prediction.race_id == race.id,
                    Prediction.stage == "post_quali",
                    Prediction.model_name == "f1_winner_post_quali",
                    Prediction.model_version == "2",
                )
            )
            .tuples()
            .all()
        )
        results = dict(
            session.execute(
                select(RaceResult.driver_id, RaceResult.position).where(
                    RaceResult.race_id == race.id
                )
            )
            .tuples()
            .all()
        )
    for m in markets:
        assert sum(m.positions) + m.dnf == pytest.approx(1, abs=1e-4)
        assert m.win <= m.podium + 1e-9 <= m.top6 + 2e-9 <= m.points + 3e-9
        # the champion's P(win), as 20,000 simulated orders give it back
        assert m.win == pytest.approx(winner[m.driver_id], abs=0.01)
        assert m.winner_version == "2" and m.alias == "champion"
    assert len(markets) == 20
    assert score_markets(engine) == len(STAGES)  # (race, stage, version): one per stage
    assert score_markets(engine) == 0  # scored once
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(MarketAccuracy).where(MarketAccuracy.stage == "post_quali")
        ).all()
    by_market = {r.market: r for r in rows}
    assert set(by_market) == {"win", "podium", "top6", "points", "dnf", "position", "h2h"}
    # the win market scored independently: each entrant a yes/no event
    p = np.array([m.win for m in markets])
    y = np.array([results.get(m.driver_id) == 1 for m in markets], dtype=float)
    p = np.clip(p, EPS, 1 - EPS)
    expected = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    assert by_market["win"].log_loss == pytest.approx(expected, rel=1e-9)
    assert by_market["h2h"].events == 10 and by_market["position"].events == 20
    assert 0 < by_market["position"].rps < 0.2  # a real forecast of a real race


ODDS = {
    "season": 2030,
    "after_round": 3,
    "seasons": 10_000,
    "computed_at": "2030-04-01T12:00:00+00:00",
    "models": {
        "winner": {"name": "f1_winner_pre_quali", "version": "4"},
        "order": {"name": "f1_order_pre_quali", "version": "2"},
    },
    "drivers": [
        {"id": "norris", "p_title": 0.7, "expected_points": 400.0},
        {"id": "piastri", "p_title": 0.3, "expected_points": 380.0},
    ],
    "constructors": [{"id": "mclaren", "p_title": 1.0, "expected_points": 780.0}],
}
POINTS = {"driver": {"norris": 75.0, "piastri": 68.0}, "constructor": {"mclaren": 143.0}}


@pytest.mark.parametrize("writers", [8])
def test_odds_of_a_round_stored_once_by_concurrent_writers(migrated: Any, writers: int) -> None:
    engine = migrated
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            start.wait()
            store_odds(engine, ODDS, POINTS)
        except BaseException as error:  # noqa: BLE001 (the assertion reports it)
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_factory(engine)() as session:
        rows = session.scalars(select(ChampionshipOdds).order_by(ChampionshipOdds.ref)).all()
    assert [(r.kind, r.ref, r.p_title, r.points) for r in rows] == [
        ("constructor", "mclaren", 1.0, 143.0),
        ("driver", "norris", 0.7, 75.0),
        ("driver", "piastri", 0.3, 68.0),
    ]
    assert {r.winner_model for r in rows} == {"f1_winner_pre_quali@4"}
    # stored again with new figures: the round's rows are replaced, not added to
    store_odds(engine, {**ODDS, "drivers": ODDS["drivers"][:1]}, POINTS)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(ChampionshipOdds)) == 2


def test_the_season_odds_are_stored_after_its_last_race_with_results_once(
    history_copy: Path, registry: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2024 with its last three races not run yet: the odds after round 21, from the
    registry's pre-qualifying models, stored once; P(title) sums to 1."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry["env"]["MLFLOW_TRACKING_URI"])
    monkeypatch.setenv("F1_HOME", registry["env"]["F1_HOME"])  # its published features
    for name in ("f1_order_pre_quali", "f1_winner_pre_quali"):
        registry["set_aliases"](name, "1", None)
    engine = make_engine(f"sqlite:///{history_copy}")
    with engine.begin() as connection:
        for table in ("race_results", "sprint_results"):
            connection.execute(
                text(
                    f"DELETE FROM {table} WHERE race_id IN "  # noqa: S608 (our table names)
                    "(SELECT id FROM races WHERE season = 2024 AND round > 21)"
                )
            )
    models = [
        LoadedModel(name, "1", "champion", load_version(name, "1"))
        for name in ("f1_winner_pre_quali", "f1_order_pre_quali")
    ]
    first = update_championship(engine, 2024, *models)
    assert first == {"season": 2024, "after_round": 21, "rows": first["rows"]} and first["rows"]
    assert update_championship(engine, 2024, *models) is None  # stored already
    with session_factory(engine)() as session:
        rows = session.scalars(select(ChampionshipOdds)).all()
    for kind in ("driver", "constructor"):
        assert sum(r.p_title for r in rows if r.kind == kind) == pytest.approx(1.0, abs=1e-9)
    leader = max((r for r in rows if r.kind == "driver"), key=lambda r: r.points)
    assert (leader.ref, leader.points) == ("max_verstappen", 393.0)  # the standings then
    assert {r.after_round for r in rows} == {21}
    assert rows[0].computed_at.date() == dt.datetime.now(dt.UTC).date()
    engine.dispose()


def test_with_no_race_next_the_last_season_is_told_round_by_round_once(
    history_copy: Path, registry: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 35: the bundled history holds no race to come, so a scoring run (the first one
    of `make up`) stores the odds of 2024 after every round from before round 1 to 23 (after
    24 the title is decided), and a second run stores nothing."""
    from pipelines.score import latest_season_story

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry["env"]["MLFLOW_TRACKING_URI"])
    monkeypatch.setenv("F1_HOME", registry["env"]["F1_HOME"])
    for name in ("f1_order_pre_quali", "f1_winner_pre_quali"):
        registry["set_aliases"](name, "1", None)
    engine = make_engine(f"sqlite:///{history_copy}")
    monkeypatch.setattr("pipelines.championship.SEASONS", 500)  # the figures' size, not a fake
    told = latest_season_story(engine)
    assert told == {"season": 2024, "rounds": list(range(24))}
    assert latest_season_story(engine) is None
    with session_factory(engine)() as session:
        rows = session.scalars(select(ChampionshipOdds).where(ChampionshipOdds.season == 2024))
        by_round: dict[int, list[ChampionshipOdds]] = {}
        for row in rows:
            by_round.setdefault(row.after_round, []).append(row)
    assert sorted(by_round) == list(range(24))
    before = {r.ref: r.points for r in by_round[0] if r.kind == "driver"}
    assert set(before.values()) == {0.0}  # before round 1 nobody has a point
    final = max((r for r in by_round[23] if r.kind == "driver"), key=lambda r: r.p_title)
    assert final.ref == "max_verstappen" and final.p_title == 1.0  # 63 points clear, 1 race left
    engine.dispose()


def test_market_problems_names_what_is_incoherent() -> None:
    rows = pd.DataFrame({"race_id": [1, 1, 1]})
    good = pd.DataFrame(
        {
            "win": [0.6, 0.3, 0.1],
            "podium": [0.9, 0.8, 0.5],
            "top6": [0.9, 0.8, 0.5],
            "points": [0.9, 0.8, 0.5],
            "dnf": [0.1, 0.2, 0.5],
            "p1": [0.6, 0.3, 0.1],
            "p2": [0.2, 0.3, 0.2],
            "p3": [0.1, 0.2, 0.2],
            "teammate_ahead": [0.7, 0.3, np.nan],  # NaN: no single teammate, not a problem
        }
    )
    assert market_problems(good, rows) == []
    bad = good.assign(podium=[0.5, 0.8, 0.5], dnf=[0.2, 0.2, 0.5])
    assert market_problems(bad, rows) == [
        "positions and DNF do not sum to 1 (off by up to 1.00e-01)",
        "P(win) ≤ P(podium) ≤ P(top6) ≤ P(points) does not hold",
    ]
    assert market_problems(good.assign(win=[np.nan, 0.3, 0.1]), rows) == [
        "markets contain NaN or infinity"
    ]


def test_the_order_models_offline_gate_compares_per_race_rps(
    history_copy: Path, registry: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second finishing-order version trained on the same seasons: the gate reads both
    training runs' per-race RPS and, with nothing between them, keeps the champion."""
    for key, value in registry["env"].items():
        monkeypatch.setenv(key, value)
    engine = make_engine()
    registry["set_aliases"]("f1_order_post_quali", "1", None)
    version = train_order(engine, "post_quali", start=2016, last=2024).version
    registry["set_aliases"]("f1_order_post_quali", "1", version)
    try:
        decision = offline_gate(engine, "post_quali", sanity_rows("post_quali"), "order")
    finally:
        registry["set_aliases"]("f1_order_post_quali", "1", None)
        engine.dispose()
    evidence = decision.evidence
    assert (decision.name, decision.champion, decision.challenger) == (
        "f1_order_post_quali",
        "1",
        version,
    )
    assert not decision.promoted and evidence["sanity"] == "ok"
    assert evidence["score"] == "rps" and evidence["races"] == 46  # 2023 and 2024
    assert evidence["champion_rps"] == pytest.approx(evidence["challenger_rps"])
    assert 0.05 < evidence["champion_rps"] < 0.2
