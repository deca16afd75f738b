"""`f1 bot …` on a real SQLite warehouse, the session registry's champion and recorded
Polymarket JSON from a local server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from tests.servers.base import Fault, LocalServer
from tests.servers.polymarket import Polymarket, seed_bot_warehouse

RACE_DAY = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)


@pytest.fixture
def bot_env(aliases, migrated: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:  # type: ignore[no-untyped-def]
    aliases(champion="2", challenger=None)
    seed_bot_warehouse(migrated, version="2", race_day=RACE_DAY)
    monkeypatch.setenv("F1_DATABASE_URL", migrated.url.render_as_string(hide_password=False))
    data = Polymarket()
    data.move_to(RACE_DAY)
    with LocalServer(data.route) as server:
        monkeypatch.setenv("BOT_GAMMA_URL", server.url)
        monkeypatch.setenv("BOT_CLOB_URL", server.url)
        yield server


def f1(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout  # warnings (a market left out) go to stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_status_start_cycle_positions_stop(bot_env: LocalServer) -> None:
    status = json.loads(f1("bot", "status", "--json"))
    assert (status["status"], status["mode"], status["cash"]) == ("stopped", "paper", 1000)
    assert "bot running (paper)" in f1("bot", "start")
    cycle = json.loads(f1("bot", "cycle", "--json"))
    assert (cycle["status"], cycle["markets"], cycle["mapped"], cycle["orders"]) == (
        "running", 5, 4, 2,
    )  # fmt: skip
    positions = json.loads(f1("bot", "positions", "--json"))
    assert {p["driver_ref"] for p in positions} == {"max_verstappen", "norris"}
    spent = sum(p["size"] * p["average_price"] for p in positions)
    status = json.loads(f1("bot", "status", "--json"))
    assert status["fees"] > 0  # the taker fee of both buys
    assert status["cash"] == pytest.approx(1000 - spent - status["fees"]) and status["cycles"] == 1
    table = f1("bot", "cycle")
    assert "edge -0.073 below 0.050" in table and "Norris" not in table  # ids, not names
    assert "bot stopped" in f1("bot", "stop")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_failing_market_api_is_a_clear_error(bot_env: LocalServer) -> None:
    bot_env.faults += [Fault("500", match="/events") for _ in range(3)]
    result = CliRunner().invoke(app, ["bot", "cycle"])
    assert result.exit_code == 1 and "HTTP 500 after 3 attempts" in result.output
