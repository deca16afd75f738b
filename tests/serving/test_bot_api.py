"""`/api/v1/bot` end to end: the service on a real warehouse (SQLite and PostgreSQL), the
session registry's champion, recorded Polymarket JSON from a local server, real tokens."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.app import create_app
from serving.auth import create_user
from serving.settings import ServiceSettings
from tests.servers.base import Fault, LocalServer
from tests.servers.polymarket import Polymarket, seed_bot_warehouse

SECRET = "bot-secret-" + "x" * 40
PASSWORD = "correct horse battery"
RACE_DAY = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)  # the API trades at real time


@pytest.fixture
def market() -> Iterator[LocalServer]:
    data = Polymarket()
    data.move_to(RACE_DAY)
    with LocalServer(data.route) as server:
        yield server


@pytest.fixture
def api(
    aliases, migrated: Engine, market: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger=None)
    seed_bot_warehouse(migrated, version="2", race_day=RACE_DAY)
    monkeypatch.setenv("BOT_GAMMA_URL", market.url)
    monkeypatch.setenv("BOT_CLOB_URL", market.url)
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret=SECRET, load_models=False)
    with TestClient(create_app(settings)) as client:
        yield client


def bearer(api: TestClient, engine: Engine, role: str) -> dict[str, str]:
    email = f"{role}-{dt.datetime.now().timestamp()}@example.org"
    create_user(engine, email, PASSWORD, role)
    answer = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_reads_need_a_sign_in_and_control_needs_an_admin(api: TestClient, migrated: Engine) -> None:
    assert api.get("/api/v1/bot/state").status_code == 401
    viewer = bearer(api, migrated, "viewer")
    for action in ("start", "stop", "cycle"):
        assert api.post(f"/api/v1/bot/{action}", headers=viewer).status_code == 403
    state = api.get("/api/v1/bot/state", headers=viewer).json()
    assert (state["status"], state["mode"], state["cash"], state["equity"]) == (
        "stopped", "paper", 1000, 1000,
    )  # fmt: skip
    assert state["limits"]["kelly_fraction"] == 0.25 and state["cycles"] == 0
    answer = api.get("/api/v1/bot/signals", headers=viewer)
    assert answer.status_code == 404 and "no bot cycle" in answer.json()["detail"]


def test_cycles_signals_positions_trades_and_pnl(api: TestClient, migrated: Engine) -> None:
    admin = bearer(api, migrated, "admin")
    stopped = api.post("/api/v1/bot/cycle", headers=admin).json()
    assert (stopped["status"], stopped["markets"], stopped["mapped"], stopped["orders"]) == (
        "stopped", 5, 4, 0,
    )  # fmt: skip
    signals = api.get("/api/v1/bot/signals", headers=admin).json()["signals"]
    assert len(signals) == 5
    would = [s for s in signals if "would buy" in s["reason"]]
    assert {s["driver_ref"] for s in would} == {"max_verstappen", "norris"}
    assert all(s["model"] == "f1_winner_post_quali v2" and s["edge"] >= 0.05 for s in would)
    edges = [s["edge"] for s in signals if s["edge"] is not None]
    assert edges == sorted(edges, reverse=True)  # best edge first

    assert api.post("/api/v1/bot/start", headers=admin).json()["status"] == "running"
    ran = api.post("/api/v1/bot/cycle", headers=admin).json()
    assert (ran["status"], ran["orders"]) == ("running", 2)
    signals = api.get("/api/v1/bot/signals", headers=admin).json()
    assert signals["cycle_id"] == ran["cycle_id"]
    buys = [s for s in signals["signals"] if s["action"] == "buy"]
    assert [s["driver_ref"] for s in buys] == ["norris", "max_verstappen"]  # by edge

    trades = api.get("/api/v1/bot/trades", headers=admin).json()
    assert trades["total"] == 2 and {t["order_id"] for t in trades["trades"]} == {
        s["order_id"] for s in buys
    }
    assert all(t["paper"] and t["status"] == "filled" for t in trades["trades"])
    positions = api.get("/api/v1/bot/positions", headers=admin).json()
    assert {p["driver_ref"] for p in positions} == {"max_verstappen", "norris"}
    spent = sum(t["filled"] * t["price"] + t["fee"] for t in trades["trades"])
    assert all(t["fee"] > 0 for t in trades["trades"])  # the taker fee
    pnl = api.get("/api/v1/bot/pnl", headers=admin).json()
    assert [point["id"] for point in pnl["curve"]] == [stopped["cycle_id"], ran["cycle_id"]]
    assert pnl["bankroll"] == 1000 and pnl["curve"][-1]["cash"] == pytest.approx(1000 - spent)
    assert pnl["equity"] == pytest.approx(ran["equity"], abs=0.01)
    unmapped = api.get("/api/v1/bot/markets", params={"mapped": "false"}, headers=admin).json()
    assert [m["group_item_title"] for m in unmapped] == ["Other"]
    assert "no driver" in unmapped[0]["mapping"]

    assert api.post("/api/v1/bot/stop", headers=admin).json()["status"] == "stopped"


def test_a_market_api_failure_is_a_502_and_is_recorded(
    api: TestClient, migrated: Engine, market: LocalServer
) -> None:
    admin = bearer(api, migrated, "admin")
    market.faults += [Fault("500", match="/events") for _ in range(3)]
    answer = api.post("/api/v1/bot/cycle", headers=admin)
    assert answer.status_code == 502 and "HTTP 500 after 3 attempts" in answer.json()["detail"]
    state: dict[str, Any] = api.get("/api/v1/bot/state", headers=admin).json()
    assert "HTTP 500" in state["last_error"] and state["cycles"] == 0 and state["cash"] == 1000


def test_first_access_to_the_state_by_20_clients_at_once_creates_one_row(
    migrated: Engine,
) -> None:
    """No state row yet: 20 concurrent readers through a running server all get it, and
    the warehouse holds exactly one (on SQLite and PostgreSQL)."""
    import asyncio

    import httpx
    from sqlalchemy import text

    from tests.serving.test_voting import LiveServer

    create_user(migrated, "reader@example.org", PASSWORD, "viewer")
    url = migrated.url.render_as_string(hide_password=False)
    settings = ServiceSettings(database_url=url, jwt_secret=SECRET, load_models=False)

    async def read_all(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            login = await client.post(
                "/api/v1/auth/login", json={"email": "reader@example.org", "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            return await asyncio.gather(
                *(client.get("/api/v1/bot/state", headers=headers) for _ in range(20))
            )

    with LiveServer(settings) as base:
        answers = asyncio.run(read_all(base))
    assert [a.status_code for a in answers] == [200] * 20
    assert {(a.json()["status"], a.json()["cash"]) for a in answers} == {("stopped", 1000.0)}
    with migrated.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM bot_state")) == 1


def test_the_accuracy_api_scores_the_market_beside_the_model(
    api: TestClient, migrated: Engine
) -> None:
    from sqlalchemy import select

    from warehouse.db import transaction
    from warehouse.schema import Driver, Race, RaceResult, Team

    admin = bearer(api, migrated, "admin")
    for _ in range(2):  # two moments: the bot read the prices twice
        assert api.post("/api/v1/bot/cycle", headers=admin).status_code == 200
    before = api.get("/api/v1/analytics/accuracy").json()
    assert before["market"] == [] and before["market_overall"] == []  # no result yet
    with transaction(migrated) as session:  # Verstappen wins
        race_id = session.scalar(select(Race.id).where(Race.round == 24))
        team = session.scalar(select(Team.id))
        verstappen = session.scalar(select(Driver.id).where(Driver.ref == "max_verstappen"))
        session.add(
            RaceResult(race_id=race_id, driver_id=verstappen, team_id=team, grid=1, position=1,
                       position_text="1", position_order=1, points=25.0, laps=58,
                       status="Finished")
        )  # fmt: skip
    answer = api.get("/api/v1/analytics/accuracy", params={"season": RACE_DAY.year}).json()
    (race,) = answer["market"]
    assert race["market_type"] == "winner" and race["moments"] == 2
    assert race["model_log_loss"] == pytest.approx(-math.log(0.30))  # the stored probability
    assert 0 < race["market_log_loss"] < 5 and 0 <= race["market_brier"] <= 2
    (overall,) = answer["market_overall"]
    assert overall["races"] == 1 and overall["moments"] == 2
