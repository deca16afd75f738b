"""`dag.test()` of polymarket_bot: the session's real champion (tests/conftest.py), its stored
forecast of an upcoming Abu Dhabi Grand Prix, and recorded Gamma/CLOB JSON from a local
server. The DAG is paused when created."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cycle import set_status
from bot.settings import BotSettings
from feature_store.online import RaceRef
from pipelines.score import store_predictions
from tests.servers.base import LocalServer
from tests.servers.polymarket import Polymarket
from warehouse.db import make_engine, session_factory, transaction
from warehouse.schema import (
    BotCycle,
    BotDecision,
    BotMarket,
    BotState,
    BotTrade,
    Circuit,
    Driver,
    Prediction,
    Race,
)

DRIVER_OF = {
    "Max Verstappen": "max_verstappen",
    "Lando Norris": "norris",
    "Charles Leclerc": "leclerc",
    "Oscar Piastri": "piastri",
}


def _dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    return DagBag(dag_folder=str(DAGS / "polymarket_bot.py")).dags["polymarket_bot"]


def test_polymarket_bot_is_paused_when_created_and_runs_every_15_minutes(airflow_db) -> None:  # type: ignore[no-untyped-def]
    dag = _dag()
    assert dag.is_paused_upon_creation is True and dag.max_active_runs == 1
    assert dag.schedule.cron == "*/15 * * * *" and dag.catchup is False


def test_polymarket_bot_runs_a_cycle_against_the_champion(
    aliases, airflow_db, history_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger=None)
    path = tmp_path / "warehouse.db"
    shutil.copy(history_file, path)
    monkeypatch.setenv("F1_DATABASE_URL", f"sqlite:///{path}")
    engine = make_engine()
    # the Abu Dhabi Grand Prix ten days from now, and the markets about it
    race_day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)
    with transaction(engine) as session:
        yas = session.scalar(select(Circuit.id).where(Circuit.ref == "yas_marina"))
        race = Race(season=race_day.year, round=1, circuit_id=yas,
                    name="Abu Dhabi Grand Prix", date=race_day)  # fmt: skip
        session.add(race)
        session.flush()
        ref = RaceRef(race.id, race.season, race.round, race.name)
    stored = store_predictions(engine, ref)  # what f1_score stores for the next race
    # before qualifying: the pre_quali winner champion, and the finishing-order champion's
    # markets
    assert set(stored) == {"f1_winner_pre_quali v1", "f1_order_pre_quali v1"}
    data = Polymarket()
    data.move_to(race_day)
    with session_factory(engine)() as session:
        wanted = set(DRIVER_OF.values())
        probabilities = dict(
            session.execute(
                select(Driver.ref, Prediction.probability)
                .join(Driver, Driver.id == Prediction.driver_id)
                .where(Prediction.race_id == ref.race_id, Driver.ref.in_(wanted))
            ).all()
        )
    assert set(probabilities) == wanted

    # books whose best ask sits 0.08 under the model (but not under one tick)
    asks = {}
    for market in data.events[0]["markets"][:4]:
        driver = DRIVER_OF[market["groupItemTitle"]]
        token = json.loads(market["clobTokenIds"])[0]
        asks[driver] = max(0.01, round(probabilities[driver] - 0.08, 2))
        data.books[token]["asks"] = [{"price": str(asks[driver]), "size": "1000"}]
    edge_enough = {d for d, ask in asks.items() if probabilities[d] - ask >= 0.05}
    assert edge_enough  # the real model favours someone by more than 0.09

    with LocalServer(data.route) as server:
        monkeypatch.setenv("BOT_GAMMA_URL", server.url)
        monkeypatch.setenv("BOT_CLOB_URL", server.url)
        monkeypatch.setenv("BOT_PER_ORDER", "20")
        set_status(engine, "running", BotSettings())
        run = _dag().test()
    assert run.state == "success"

    with session_factory(engine)() as session:
        cycles = session.scalars(select(BotCycle)).all()
        decisions = session.scalars(select(BotDecision)).all()
        markets = {m.id: m for m in session.scalars(select(BotMarket))}
        trades = session.scalars(select(BotTrade)).all()
        state = session.get(BotState, "default")
    assert len(cycles) == 1 and cycles[0].markets == 5 and cycles[0].mapped == 4
    assert state is not None and state.heartbeat_at is not None and state.last_error is None
    assert {markets[m].race_id for m in markets if markets[m].driver_ref} == {ref.race_id}
    for decision in decisions:
        driver = markets[decision.market_id].driver_ref
        if driver is None:
            assert "not mapped" in decision.reason
            continue
        assert decision.model == "f1_winner_pre_quali v1"
        assert decision.probability == pytest.approx(probabilities[driver])
    bought = {markets[t.market_id].driver_ref for t in trades}
    assert bought == edge_enough
    assert {markets[d.market_id].driver_ref for d in decisions if d.action == "buy"} == bought
    assert all(t.filled * t.price <= 20 + 1e-9 for t in trades)  # BOT_PER_ORDER
    assert state.limits["per_order"] == 20
