"""The paper broker: fills orders against the order book's displayed depth, with fees; marks
positions to market; settles them when a market resolves. It keeps the books so that, always,

    cash + Σ size × mark = bankroll + realised + unrealised − fees

(fees are kept apart from the average entry price)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from typing import Literal

from bot.models import MarketData, Order, OrderBook, Position, Trade


@dataclass
class PaperBroker:
    bankroll: float
    fee_rate: float = 0.0
    cash: float = field(init=False)
    fees: float = field(init=False, default=0.0)
    realised: float = field(init=False, default=0.0)
    positions: dict[str, Position] = field(init=False, default_factory=dict)
    trades: list[Trade] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.bankroll < 0:
            raise ValueError(f"bankroll {self.bankroll} is negative")
        self.cash = self.bankroll

    def load(
        self, cash: float, fees: float, realised: float, positions: list[Position]
    ) -> PaperBroker:
        """Take up the books as the warehouse last recorded them."""
        self.cash, self.fees, self.realised = cash, fees, realised
        self.positions = {p.token: p for p in positions}
        return self

    # -- what is held

    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.closed_at is None and p.size > 0]

    def exposure(self, market_id: str | None = None) -> float:
        """Cost of the open positions (of one market, or all)."""
        return sum(
            p.cost for p in self.open_positions() if market_id is None or p.market_id == market_id
        )

    @property
    def unrealised(self) -> float:
        return sum(p.unrealised_pnl for p in self.open_positions())

    def equity(self) -> float:
        return self.cash + sum(p.size * p.mark for p in self.open_positions())

    # -- orders

    def place(self, order: Order, book: OrderBook, market: MarketData, now: dt.datetime) -> Trade:
        """Buy up to `order.size` shares at prices no worse than `order.price`, walking the
        asks; never spends more cash than there is."""
        if not market.has_token(order.token):
            raise ValueError(f"token {order.token} is not one of market {market.id}'s tokens")
        if book.asset_id != order.token:
            raise ValueError(f"the order book is for {book.asset_id}, the order for {order.token}")
        if order.side != "buy":
            raise ValueError("the paper broker only buys; positions are closed by settlement")
        fees = market.fees(self.fee_rate)  # the bot takes liquidity: a taker's fee
        remaining, spent, filled, fee = order.size, 0.0, 0.0, 0.0
        for level in book.asks:
            if level.price > order.price + 1e-12 or remaining <= 0:
                break
            unit = fees.cost(level.price)
            affordable = math.floor((self.cash - spent - fee) / unit * 100) / 100
            take = min(level.size, remaining, max(affordable, 0.0))
            if take <= 0:
                break
            spent += take * level.price
            fee += fees.fee(take, level.price)
            filled += take
            remaining -= take
        return self.record(order, market, now, filled, spent, fee, f"paper-{uuid.uuid4().hex[:16]}")

    def record(
        self,
        order: Order,
        market: MarketData,
        now: dt.datetime,
        filled: float,
        spent: float,
        fee: float,
        order_id: str,
        paper: bool = True,
    ) -> Trade:
        """Book a fill of `filled` shares costing `spent` plus `fee` (none: unfilled)."""
        remaining = order.size - filled
        status: Literal["filled", "partial", "unfilled"] = (
            "filled" if remaining <= 1e-9 else ("partial" if filled > 0 else "unfilled")
        )
        trade = Trade(
            order_id=order_id,
            market_id=market.id,
            token=order.token,
            side="buy",
            price=spent / filled if filled else order.price,
            size=order.size,
            filled=filled,
            status=status,
            fee=fee,
            paper=paper,
            at=now,
        )
        if filled:
            self.cash -= spent + fee
            self.fees += fee
            held = self.positions.get(order.token)
            if held is None or held.closed_at is not None:
                outcome = market.outcomes[market.clob_token_ids.index(order.token)]
                held = Position(
                    market_id=market.id,
                    token=order.token,
                    outcome=outcome,
                    size=0,
                    average_price=0,
                    mark=trade.price,
                    opened_at=now,
                )
                self.positions[order.token] = held
            total = held.size + filled
            held.average_price = (held.cost + spent) / total
            held.size = total
        self.trades.append(trade)
        return trade

    # -- prices and outcomes

    def mark(self, token: str, price: float) -> None:
        if not 0 <= price <= 1:
            raise ValueError(f"mark {price} is outside [0, 1]")
        held = self.positions.get(token)
        if held is not None and held.closed_at is None:
            held.mark = price

    def settle(self, market: MarketData, winner: str, now: dt.datetime) -> float:
        """Pay 1 per share of the winning outcome, 0 otherwise; returns the realised P&L."""
        if winner not in market.outcomes:
            raise ValueError(f"market {market.id} has no outcome {winner!r}")
        realised = 0.0
        for token, outcome in zip(market.clob_token_ids, market.outcomes, strict=True):
            held = self.positions.get(token)
            if held is None or held.closed_at is not None:
                continue
            payout = 1.0 if outcome == winner else 0.0
            pnl = held.size * (payout - held.average_price)
            self.cash += held.size * payout
            held.realised_pnl += pnl
            held.mark, held.closed_at = payout, now
            realised += pnl
        self.realised += realised
        return realised

    def imbalance(self) -> float:
        """How far the books are from balancing (0 up to rounding)."""
        held = sum(p.size * p.mark for p in self.open_positions())
        return self.cash + held - (self.bankroll + self.realised + self.unrealised - self.fees)
