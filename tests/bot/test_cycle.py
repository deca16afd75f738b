"""Whole bot cycles, driven by recorded Gamma and CLOB JSON through a local HTTP server, writing
their books to the warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from bot.clients import MarketApiError
from bot.cycle import ensure_state, set_status
from bot.fees import FeeSchedule
from bot.live import LiveBroker, LiveTradingDisabled
from bot.record import ConcurrentCycle
from bot.settings import BotSettings
from tests.bot.conftest import make_bot, rows
from tests.servers.base import Fault, LocalServer
from tests.servers.polymarket import (
    BEFORE_RACE,
    PROBABILITIES,
    Polymarket,
)
from warehouse.db import session_factory
from warehouse.schema import BotCycle, BotDecision, BotMarket, BotPosition, BotState, BotTrade

ASKS = {"max_verstappen": 0.23, "norris": 0.49}  # best asks of the recorded books
NO_EDGE = {"leclerc": 0.12, "piastri": 0.10}  # theirs, too dear for their probabilities
LIMITS = BotSettings().limits()
FEES = FeeSchedule(LIMITS.fee_rate)  # Polymarket's sports taker fee: 0.03 × p(1 − p) a share


def state(engine: Engine) -> BotState:
    with session_factory(engine)() as session:
        found = session.get(BotState, "default")
        assert found is not None
        return found


def expected_buy(driver: str, equity: float = 1000.0) -> tuple[float, float]:
    """(shares, limit price) by the issue's rules, computed here from the limits."""
    p, cost = PROBABILITIES[driver], FEES.cost(ASKS[driver])
    stake = min(LIMITS.kelly_fraction * (p - cost) / (1 - cost) * equity, LIMITS.per_order)
    # the highest price on the cent grid still leaving the minimum edge after its fee
    limit = max(c / 100 for c in range(1, 100) if FEES.cost(c / 100) <= p - LIMITS.min_edge)
    return math.floor(stake / FEES.cost(limit) * 100) / 100, round(limit, 6)


def fee(driver: str) -> float:
    """The taker fee of the expected buy, filled at the best ask."""
    return FEES.fee(expected_buy(driver)[0], ASKS[driver])


def no_edge(driver: str) -> str:
    return f"edge {PROBABILITIES[driver] - FEES.cost(NO_EDGE[driver]):+.3f} below 0.050"


def test_a_cycle_buys_where_the_edge_is_and_says_why_elsewhere(
    warehouse: Engine, market: tuple[Polymarket, LocalServer]
) -> None:
    data, server = market
    bot = make_bot(warehouse, server)
    set_status(warehouse, "running", bot.settings)
    report = bot.cycle(BEFORE_RACE)

    assert (report.markets, report.mapped, report.orders) == (5, 4, 2)
    decisions = {d.market_id: d for d in rows(warehouse, BotDecision)}
    by_title = {m.group_item_title: m for m in rows(warehouse, BotMarket)}
    assert set(by_title) == {"Max Verstappen", "Lando Norris", "Charles Leclerc",
                             "Oscar Piastri", "Other"}  # fmt: skip
    assert by_title["Other"].driver_ref is None and "no driver" in by_title["Other"].mapping
    assert by_title["Lando Norris"].driver_ref == "norris"
    assert by_title["Lando Norris"].clob_token_ids == ["7110000000000000004", "7110000000000000005"]

    def decision(title: str) -> BotDecision:
        return decisions[by_title[title].id]

    assert decision("Other").action == "skip" and "not mapped" in decision("Other").reason
    leclerc = decision("Charles Leclerc")
    assert leclerc.action == "skip" and leclerc.reason == no_edge("leclerc") == (
        "edge -0.073 below 0.050"  # 0.05 − (0.12 + 0.03 × 0.12 × 0.88)
    )
    assert leclerc.model == "f1_winner_post_quali v7" and leclerc.probability == 0.05
    assert decision("Oscar Piastri").reason == no_edge("piastri")

    trades = {t.market_id: t for t in rows(warehouse, BotTrade)}
    spent = 0.0
    for title, driver, binding in [
        ("Max Verstappen", "max_verstappen", "kelly"),
        ("Lando Norris", "norris", "per order"),
    ]:
        buy = decision(title)
        shares, limit = expected_buy(driver)
        assert buy.action == "buy" and buy.reason.endswith(f"sized by {binding}")
        assert (buy.order_size, buy.order_price) == (pytest.approx(shares), pytest.approx(limit))
        trade = trades[buy.market_id]
        assert trade.order_id == buy.order_id and trade.paper and trade.status == "filled"
        assert trade.price == pytest.approx(ASKS[driver]) and trade.filled == pytest.approx(shares)
        assert trade.fee == pytest.approx(fee(driver))
        assert trade.filled * trade.price + trade.fee <= LIMITS.per_order
        spent += shares * ASKS[driver]
    fees = fee("norris") + fee("max_verstappen")

    books = state(warehouse)
    assert books.cash == pytest.approx(1000 - spent - fees)
    assert books.exposure == pytest.approx(spent) and books.fees == pytest.approx(fees)
    assert books.version == 1 and books.heartbeat_at is not None and books.last_error is None
    positions = rows(warehouse, BotPosition)
    assert sorted(p.size for p in positions) == pytest.approx(
        sorted(expected_buy(d)[0] for d in ASKS)
    )
    cycle = rows(warehouse, BotCycle)[0]
    assert cycle.equity == pytest.approx(1000.0 - fees) and cycle.orders == 2

    # the race is run and Norris wins: both markets resolve, the positions settle
    data.resolve("Lando Norris")
    report = bot.cycle(BEFORE_RACE + dt.timedelta(days=3))
    norris, verstappen = expected_buy("norris")[0], expected_buy("max_verstappen")[0]
    realised = norris * (1 - ASKS["norris"]) - verstappen * ASKS["max_verstappen"]
    assert (report.markets, report.settled, report.orders) == (0, 2, 0)
    books = state(warehouse)
    assert books.realised_pnl == pytest.approx(realised)
    assert books.cash == pytest.approx(1000 + realised - fees) and books.exposure == 0
    assert all(p.closed_at is not None for p in rows(warehouse, BotPosition))
    assert rows(warehouse, BotCycle)[-1].equity == pytest.approx(1000 + realised - fees)


def test_a_stopped_bot_records_its_signals_and_buys_nothing(
    warehouse: Engine, market: tuple[Polymarket, LocalServer]
) -> None:
    _, server = market
    report = make_bot(warehouse, server).cycle(BEFORE_RACE)
    assert report.status == "stopped" and report.orders == 0
    signals = [d for d in rows(warehouse, BotDecision) if "would buy" in d.reason]
    assert len(signals) == 2 and all(d.action == "skip" for d in signals)
    assert state(warehouse).cash == 1000 and rows(warehouse, BotTrade) == []


def test_no_orders_past_the_end_date_or_below_the_minimum_liquidity(
    warehouse: Engine, market: tuple[Polymarket, LocalServer]
) -> None:
    data, server = market
    data.market("Lando Norris")["liquidity"] = "800"
    bot = make_bot(warehouse, server)
    set_status(warehouse, "running", bot.settings)
    bot.cycle(BEFORE_RACE)
    reasons = {d.market_id: d.reason for d in rows(warehouse, BotDecision)}
    assert reasons[data.market("Lando Norris")["id"]] == "liquidity 800 below 1000"
    assert [t.market_id for t in rows(warehouse, BotTrade)] == [data.market("Max Verstappen")["id"]]
    bot.cycle(dt.datetime(2024, 12, 8, 13, 0, tzinfo=dt.UTC))  # the markets' end date
    last = [d for d in rows(warehouse, BotDecision) if d.cycle_id == 2]
    assert {d.reason for d in last if d.model} == {"past the market's end date"}
    assert len(rows(warehouse, BotTrade)) == 1


def test_the_drawdown_limit_halts_the_bot_until_it_is_started_again(
    warehouse: Engine, market: tuple[Polymarket, LocalServer]
) -> None:
    data, server = market
    bot = make_bot(warehouse, server, max_drawdown=0.03)
    set_status(warehouse, "running", bot.settings)
    bot.cycle(BEFORE_RACE)
    # both prices collapse: marked at 0.01, the positions lose about 63 of 1000 (> 3%)
    for title in ("Max Verstappen", "Lando Norris"):
        data.market(title)["outcomePrices"] = '["0.01", "0.99"]'
    report = bot.cycle(BEFORE_RACE + dt.timedelta(hours=1))
    assert report.status == "halted" and report.orders == 0
    halted = [d for d in rows(warehouse, BotDecision) if d.cycle_id == 2 and d.model]
    assert {d.reason for d in halted} >= {"halted: equity fell 3% below its peak"}
    assert state(warehouse).status == "halted" and state(warehouse).peak_equity == 1000
    set_status(warehouse, "running", bot.settings)
    assert state(warehouse).peak_equity == pytest.approx(report.equity)


def test_a_failing_market_api_stores_the_error_and_nothing_else(
    warehouse: Engine, market: tuple[Polymarket, LocalServer]
) -> None:
    _, server = market
    bot = make_bot(warehouse, server)
    set_status(warehouse, "running", bot.settings)
    server.faults += [Fault("500", match="/events"), Fault("500", match="/events")]
    with pytest.raises(MarketApiError, match="HTTP 500 after 2 attempts"):
        bot.cycle(BEFORE_RACE)
    books = state(warehouse)
    assert "HTTP 500" in (books.last_error or "") and books.cash == 1000 and books.version == 0
    assert rows(warehouse, BotCycle) == [] and rows(warehouse, BotMarket) == []
    bot.cycle(BEFORE_RACE)  # the API is back: the error clears
    assert state(warehouse).last_error is None and len(rows(warehouse, BotTrade)) == 2


def test_two_cycles_at_once_record_only_one(
    warehouse: Engine, market: tuple[Polymarket, LocalServer]
) -> None:
    data, server = market
    settings = BotSettings(gamma_url=server.url, clob_url=server.url)
    set_status(warehouse, "running", settings)
    both_read = threading.Barrier(2, timeout=20)
    route = data.route

    def held(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/events":
            both_read.wait()  # both cycles have read the books before either writes
        return route(path, query)

    server.route = held
    outcomes: list[str] = []

    def run() -> None:
        try:
            make_bot(warehouse, server).cycle(BEFORE_RACE)
            outcomes.append("written")
        except ConcurrentCycle:
            outcomes.append("dropped")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["dropped", "written"]
    assert len(rows(warehouse, BotTrade)) == 2 and state(warehouse).version == 1


def test_live_trading_needs_the_switch_and_keys_and_never_shows_a_key(
    warehouse: Engine, market: tuple[Polymarket, LocalServer], caplog: pytest.LogCaptureFixture
) -> None:
    key = "0x" + "ab" * 32
    with pytest.raises(LiveTradingDisabled, match="BOT_LIVE_TRADING=true"):
        LiveBroker(BotSettings(private_key=SecretStr(key), funder="0xf"), 1000, 0)
    with pytest.raises(LiveTradingDisabled, match="needs BOT_PRIVATE_KEY"):
        LiveBroker(BotSettings(live_trading=True), 1000, 0)
    settings = BotSettings(private_key=SecretStr(key), funder="0xf")
    assert not settings.live and key not in repr(settings) and key not in str(settings)
    _, server = market
    caplog.set_level(logging.DEBUG)
    bot = make_bot(warehouse, server, private_key=SecretStr(key), funder="0xf")
    set_status(warehouse, "running", bot.settings)
    bot.cycle(BEFORE_RACE)  # keys without the switch: paper
    assert all(t.paper for t in rows(warehouse, BotTrade)) and not state(warehouse).live
    assert key not in caplog.text


def test_the_first_state_is_stopped_with_the_configured_bankroll(migrated: Engine) -> None:
    created = ensure_state(migrated, BotSettings(bankroll=250, per_order=20))
    assert (created.status, created.cash, created.bankroll) == ("stopped", 250, 250)
    assert created.limits["per_order"] == 20 and created.limits["kelly_fraction"] == 0.25
    with pytest.raises(ValueError, match="running or stopped, not 'paused'"):
        set_status(migrated, "paused", BotSettings())
    with session_factory(migrated)() as session:
        assert session.scalar(select(func.count()).select_from(BotState)) == 1
