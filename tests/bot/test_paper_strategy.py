"""The bot's models, strategy and paper broker: validation, sizing, fills, settlement, and a
property-based run over thousands of random sequences of markets, prices and model
probabilities (no limit ever exceeded, cash never negative, the books always balance)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.fees import FeeSchedule
from bot.models import Limits, MarketData, Order, OrderBook, Trade
from bot.paper import PaperBroker
from bot.strategy import Guard, decide

NOW = dt.datetime(2025, 3, 14, 12, tzinfo=dt.UTC)


def _market(i: int = 0, **extra: Any) -> MarketData:
    raw = {
        "id": f"m{i}",
        "conditionId": f"0xc{i}",
        "slug": f"will-driver-{i}-win",
        "question": f"Will driver {i} win the Australian Grand Prix?",
        "outcomes": '["Yes", "No"]',
        "outcomePrices": '["0.3", "0.7"]',
        "clobTokenIds": json.dumps([f"y{i}", f"n{i}"]),
        "endDate": "2025-03-16T05:00:00Z",
        "liquidity": 5000,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "driver_ref": f"driver{i}",
        **extra,
    }
    return MarketData.model_validate(raw)


def _book(token: str, asks: list[tuple[float, float]]) -> OrderBook:
    return OrderBook.model_validate(
        {
            "asset_id": token,
            "asks": [{"price": str(p), "size": str(s)} for p, s in asks],
            "bids": [],
        }
    )


def test_gamma_json_strings_are_parsed_and_bad_values_named() -> None:
    market = _market()
    assert market.outcomes == ["Yes", "No"] and market.outcome_prices == [0.3, 0.7]
    assert market.token("Yes") == "y0" and market.end_date == dt.datetime(
        2025, 3, 16, 5, tzinfo=dt.UTC
    )
    with pytest.raises(ValidationError, match=r"outcome price 1.3 is outside \[0, 1\]"):
        _market(outcomePrices='["1.3", "-0.3"]')
    with pytest.raises(ValidationError, match="2 outcomes, 2 prices, 1 token ids"):
        _market(clobTokenIds='["y0"]')
    with pytest.raises(ValidationError, match="not a JSON list"):
        _market(outcomes="Yes,No")
    with pytest.raises(ValidationError, match="price"):
        _book("y0", [(1.2, 10)])
    with pytest.raises(ValidationError, match="size"):
        _book("y0", [(0.4, -1)])
    with pytest.raises(ValidationError, match="filled 11.0 is more than the order's size 10.0"):
        Trade(
            order_id="o",
            market_id="m0",
            token="y0",
            side="buy",
            price=0.4,
            size=10,
            filled=11,
            status="filled",
            fee=0,
            at=NOW,
        )
    broker = PaperBroker(100)
    with pytest.raises(ValueError, match="token zz is not one of market m0's tokens"):
        broker.place(
            Order(market_id="m0", token="zz", price=0.5, size=10),
            _book("zz", [(0.4, 10)]),
            market,
            NOW,
        )


def test_fills_walk_the_depth_with_fees_and_settle() -> None:
    market = _market()
    broker = PaperBroker(100, fee_rate=0.02)
    book = _book("y0", [(0.42, 50), (0.40, 10), (0.45, 100)])  # unsorted, as sent
    assert book.best_ask == 0.40
    trade = broker.place(Order(market_id="m0", token="y0", price=0.42, size=40), book, market, NOW)
    assert (trade.filled, trade.status) == (40, "filled")
    assert trade.price == pytest.approx((10 * 0.40 + 30 * 0.42) / 40)
    # a taker's fee per level: shares × rate × p(1 − p), each rounded to 0.00001
    fee = round(10 * 0.02 * 0.40 * 0.60, 5) + round(30 * 0.02 * 0.42 * 0.58, 5)
    assert trade.fee == pytest.approx(fee) and fee == pytest.approx(0.19416)
    assert broker.cash == pytest.approx(100 - 16.6 - fee)
    broker.mark("y0", 0.5)
    assert broker.unrealised == pytest.approx(40 * 0.5 - 16.6)
    assert broker.imbalance() == pytest.approx(0, abs=1e-9)
    assert broker.settle(market, "Yes", NOW) == pytest.approx(40 - 16.6)
    assert broker.cash == pytest.approx(100 - 16.6 - fee + 40)
    assert broker.open_positions() == [] and broker.imbalance() == pytest.approx(0, abs=1e-9)
    poor = PaperBroker(5)
    partial = poor.place(
        Order(market_id="m0", token="y0", price=0.5, size=100),
        _book("y0", [(0.5, 100)]),
        market,
        NOW,
    )
    assert partial.status == "partial" and partial.filled == 10 and poor.cash == pytest.approx(0)


def test_decisions_give_their_reasons_and_respect_the_caps() -> None:
    limits = Limits(
        min_edge=0.05,
        kelly_fraction=0.25,
        per_order=20,
        per_market=30,
        total_exposure=1000,
        min_liquidity=1000,
    )
    broker, guard = PaperBroker(1000), Guard.start(1000, NOW)
    market, book = _market(), _book("y0", [(0.30, 1000)])
    buy = decide(market, book, 0.50, broker, guard, limits, NOW)
    assert buy.action == "buy" and buy.order is not None
    fees = FeeSchedule(limits.fee_rate)  # the sports taker fee, 0.03 × p(1 − p) a share
    # Kelly: 0.25 × (0.5 − 0.3063)/(1 − 0.3063) × 1000 = 69.8 → capped by the 20 per order
    assert "per order" in buy.reason and buy.order.size * fees.cost(buy.order.price) <= 20 + 1e-9
    # still ≥ 5 points of edge after the fee up to 0.44 (0.447392), not at 0.45 (0.457425)
    assert buy.order.price == pytest.approx(0.44)
    assert buy.edge == pytest.approx(0.5 - fees.cost(0.30))
    broker.place(buy.order, book, market, NOW)
    second = decide(market, book, 0.50, broker, guard, limits, NOW)
    assert second.order is not None and "per market" in second.reason
    assert broker.exposure("m0") + second.order.size * second.order.price <= 30 + 1e-9
    reasons = {
        "edge +0.014 below 0.050": decide(market, book, 0.32, broker, guard, limits, NOW),
        "not mapped": decide(_market(driver_ref=None), book, None, broker, guard, limits, NOW),
        "end date": decide(market, book, 0.5, broker, guard, limits, NOW + dt.timedelta(days=3)),
        "liquidity 10 below 1000": decide(
            _market(liquidity=10), book, 0.5, broker, guard, limits, NOW
        ),
        "market is closed": decide(_market(closed=True), book, 0.5, broker, guard, limits, NOW),
        "no asks": decide(market, _book("y0", []), 0.5, broker, guard, limits, NOW),
    }
    for expected, decision in reasons.items():
        assert decision.action == "skip" and expected in decision.reason, decision.reason
    guard.halted = True
    assert "halted" in decide(market, book, 0.9, broker, guard, limits, NOW).reason


PRICES = st.integers(1, 99).map(lambda cents: cents / 100)
LEVELS = st.lists(st.tuples(PRICES, st.integers(1, 400).map(float)), max_size=3)
STEP = st.fixed_dictionaries(
    {
        "hours": st.integers(1, 30),
        "markets": st.lists(
            st.fixed_dictionaries(
                {
                    "asks": LEVELS,
                    "p": st.floats(0, 1),
                    "mark": PRICES,
                    "resolve": st.sampled_from([None, None, None, "Yes", "No"]),
                }
            ),
            min_size=3,
            max_size=3,
        ),
    }
)
LIMITS = st.builds(
    Limits,
    min_edge=st.floats(0, 0.2),
    kelly_fraction=st.floats(0.05, 1),
    per_order=st.floats(1, 100),
    per_market=st.floats(1, 200),
    total_exposure=st.floats(1, 300),
    daily_loss=st.floats(1, 200),
    max_drawdown=st.floats(0.05, 0.5),
    min_liquidity=st.sampled_from([0.0, 1000.0]),
    fee_rate=st.floats(0, 0.05),
)


# every market type the bot trades, and the fee schedules a market may carry on Gamma
TYPES = ("winner", "podium", "top6", "points", "h2h", "drivers_title", "constructors_title")
FEES = st.one_of(
    st.none(),
    st.fixed_dictionaries({"rate": st.floats(0, 0.1), "exponent": st.sampled_from([1.0, 2.0])}),
)
KIND = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES), "fees": FEES, "enabled": st.sampled_from([None, False])}
)


@settings(max_examples=5000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    limits=LIMITS,
    bankroll=st.floats(0, 1000),
    mapped=st.lists(st.booleans(), min_size=3, max_size=3),
    kinds=st.lists(KIND, min_size=3, max_size=3),
    steps=st.lists(STEP, min_size=1, max_size=10),
)
def test_no_limit_is_ever_exceeded_and_the_books_balance(
    limits: Limits,
    bankroll: float,
    mapped: list[bool],
    kinds: list[dict[str, Any]],
    steps: list[dict[str, Any]],
) -> None:
    """…over 5,000 random sequences of books, probabilities, marks and resolutions, in every
    market type the bot trades, with the fee schedules a market may carry."""
    eps = 1e-6
    markets = []
    for i, kind in enumerate(kinds):
        team = kind["type"] == "constructors_title"
        markets.append(
            _market(
                i,
                driver_ref=f"d{i}" if mapped[i] and not team else None,
                team_ref=f"t{i}" if mapped[i] and team else None,
                market_type=kind["type"],
                season=2025 if kind["type"].endswith("_title") else None,
                feeSchedule=kind["fees"],
                feesEnabled=kind["enabled"],
                endDate="2025-03-20T00:00:00Z",
                liquidity=500 + 400 * i,
            )
        )
    broker, now = PaperBroker(bankroll, fee_rate=limits.fee_rate), NOW
    guard = Guard.start(broker.equity(), now)
    resolved: set[str] = set()
    for step in steps:
        now += dt.timedelta(hours=step["hours"])
        for market, state in zip(markets, step["markets"], strict=True):
            if market.id in resolved:
                continue
            book = _book(market.token("Yes"), state["asks"])
            halted, day_loss = guard.halted, guard.day_start - broker.equity()
            decision = decide(
                market, book, state["p"] if market.subject else None, broker, guard, limits, now
            )
            if decision.order is None:
                continue
            assert not halted and day_loss < limits.daily_loss and market.subject is not None
            assert now < market.end_date and market.liquidity >= limits.min_liquidity  # type: ignore[operator]
            assert decision.edge is not None and decision.edge >= limits.min_edge
            trade = broker.place(decision.order, book, market, now)
            spent = trade.filled * trade.price
            assert spent + trade.fee <= limits.per_order + eps
            assert trade.filled == 0 or trade.price <= decision.order.price + eps
            assert broker.exposure(market.id) <= limits.per_market + eps
            assert broker.exposure() <= limits.total_exposure + eps
            assert broker.cash >= -eps
        for market, state in zip(markets, step["markets"], strict=True):
            if market.id in resolved:
                continue
            broker.mark(market.token("Yes"), state["mark"])
            if state["resolve"]:
                broker.settle(market, state["resolve"], now)
                resolved.add(market.id)
        guard.update(broker.equity(), now, limits)
        assert broker.cash >= -eps
        assert abs(broker.imbalance()) <= 1e-6 * max(1.0, bankroll)
