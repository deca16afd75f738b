"""Edge and sizing: buy an outcome when our model's probability beats the best ask (after fees)
by at least `min_edge`, sized by fractional Kelly and capped by every hard limit. Every
decision, trade or skip, carries its reason."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from bot.fees import FeeSchedule
from bot.models import Limits, MarketData, Order, OrderBook
from bot.paper import PaperBroker


@dataclass(frozen=True)
class Decision:
    market_id: str
    action: str  # "buy" or "skip"
    reason: str
    probability: float | None = None
    best_ask: float | None = None
    edge: float | None = None
    order: Order | None = None


@dataclass
class Guard:
    """What the limits remember between cycles: peak equity, the day's opening equity, and
    whether the drawdown limit halted the bot."""

    peak: float
    day: dt.date
    day_start: float
    halted: bool = False

    @classmethod
    def start(cls, equity: float, now: dt.datetime) -> Guard:
        return cls(peak=equity, day=now.date(), day_start=equity)

    def update(self, equity: float, now: dt.datetime, limits: Limits) -> None:
        if now.date() != self.day:
            self.day, self.day_start = now.date(), equity
        self.peak = max(self.peak, equity)
        if equity < self.peak * (1 - limits.max_drawdown):
            self.halted = True


def decide(
    market: MarketData,
    book: OrderBook | None,
    probability: float | None,
    broker: PaperBroker,
    guard: Guard,
    limits: Limits,
    now: dt.datetime,
) -> Decision:
    """Whether to buy the market's Yes outcome now, and how much."""

    def skip(
        reason: str,
        probability: float | None = None,
        best_ask: float | None = None,
        edge: float | None = None,
    ) -> Decision:
        return Decision(market.id, "skip", reason, probability, best_ask, edge)

    reason = blocked(market, probability, broker, guard, limits, now)
    if reason is not None:
        return skip(reason)
    assert probability is not None  # blocked() refuses a market without one
    equity = broker.equity()
    if book is None or book.best_ask is None:
        return skip("no asks in the order book", probability=probability)
    ask = book.best_ask
    fees = market.fees(limits.fee_rate)
    cost = fees.cost(ask)
    edge = probability - cost
    seen = (probability, ask, edge)
    if edge < limits.min_edge:
        return skip(f"edge {edge:+.3f} below {limits.min_edge:.3f}", *seen)
    kelly = (probability - cost) / (1 - cost)
    room = {
        "kelly": limits.kelly_fraction * kelly * equity,
        "per order": limits.per_order,
        "per market": limits.per_market - broker.exposure(market.id),
        "total exposure": limits.total_exposure - broker.exposure(),
        "cash": broker.cash,
    }
    binding = min(room, key=lambda k: room[k])
    stake = room[binding]
    # the highest price (on the tick grid) that still leaves the minimum edge after fees
    tick = book.tick_size or market.tick_size
    limit = _highest_price(probability - limits.min_edge, fees, tick)
    limit = round(min(max(limit, ask), 1 - tick), 6)
    shares = math.floor(stake / fees.cost(limit) * 100) / 100
    minimum = book.min_order_size or market.min_size
    if shares <= 0 or shares < minimum:
        return skip(f"{shares:.2f} shares ({binding} limit) below the minimum {minimum:g}", *seen)
    order = Order(market_id=market.id, token=market.token(market.priced), price=limit, size=shares)
    reason = f"edge {edge:+.3f}, sized by {binding}"
    return Decision(market.id, "buy", reason, probability, ask, edge, order)


def _highest_price(budget: float, fees: FeeSchedule, tick: float) -> float:
    """The highest price on the tick grid whose cost with the fee is at most `budget` (the
    cost rises with the price: its slope is 1 + rate × (1 − 2p) > 0)."""
    steps = min(math.floor(round(budget / tick, 9)), round(1 / tick) - 1)
    while steps > 1 and fees.cost(steps * tick) > budget + 1e-12:
        steps -= 1
    return steps * tick


def blocked(
    market: MarketData,
    probability: float | None,
    broker: PaperBroker,
    guard: Guard,
    limits: Limits,
    now: dt.datetime,
) -> str | None:
    """Why no order may be placed in `market` now whatever its book says, or None."""
    if market.closed or not market.active:
        return "market is closed"
    if market.subject is None or probability is None:
        return "market is not mapped to a race and driver"
    if market.end_date is not None and now >= market.end_date:
        return "past the market's end date"
    if guard.halted:
        return f"halted: equity fell {limits.max_drawdown:.0%} below its peak"
    if guard.day_start - broker.equity() >= limits.daily_loss:
        return f"daily loss limit {limits.daily_loss:.2f} reached"
    if market.liquidity < limits.min_liquidity:
        return f"liquidity {market.liquidity:.0f} below {limits.min_liquidity:.0f}"
    return None
