"""The cycle's one transaction: what the bot saw, decided and traded, written at once, and
only when no other cycle wrote the books meanwhile (the state row's version)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, update

from bot.models import MarketData, OrderBook, Trade
from bot.paper import PaperBroker
from bot.settings import BotSettings
from bot.strategy import Decision, Guard
from warehouse.db import transaction
from warehouse.schema import (
    BotCycle,
    BotDecision,
    BotMarket,
    BotPosition,
    BotQuote,
    BotState,
    BotTrade,
)


class ConcurrentCycle(RuntimeError):
    """Another cycle wrote the books while this one ran; this one's results were dropped."""


@dataclass
class Seen:
    """A market of this cycle: its data, the event it belongs to and its mapping reason."""

    market: MarketData
    event_title: str
    mapping: str


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def quote_row(
    books: dict[str, OrderBook],
    cycle_id: int,
    market: MarketData,
    decision: Decision,
    model: str | None,
    now: dt.datetime,
) -> BotQuote:
    """What the bot read of `market` this cycle: the order book's best quotes when it read
    the book, else Gamma's; the model's probability beside them (the market benchmark)."""
    yes = market.outcomes.index(market.priced) if market.priced in market.outcomes else 0
    book = books.get(market.clob_token_ids[yes])
    if book is not None:
        bid, ask, source = book.best_bid, book.best_ask, "book"
    else:
        bid, ask, source = market.best_bid, market.best_ask, "gamma"
    mapped = (market.race_id or market.season) is not None and market.subject is not None
    return BotQuote(
        cycle_id=cycle_id,
        market_id=market.id,
        market_type=market.market_type if mapped else "unmapped",
        race_id=market.race_id,
        season=market.season,
        driver_ref=market.driver_ref,
        team_ref=market.team_ref,
        price=market.outcome_prices[yes],
        best_bid=bid,
        best_ask=ask,
        mid=(bid + ask) / 2 if bid is not None and ask is not None else None,
        source=source,
        probability=decision.probability,
        model=model,
        seen_at=now,
    )


def write_cycle(
    engine: Engine,
    name: str,
    settings: BotSettings,
    books: dict[str, OrderBook],
    state: BotState,
    seen: list[Seen],
    broker: PaperBroker,
    guard: Guard,
    status: str,
    decisions: list[tuple[Decision, str | None]],
    trades: list[Trade],
    settled: int,
    now: dt.datetime,
) -> int:
    """Everything the cycle did, in one transaction guarded by the state's version: its markets,
    the cycle, every decision and quote, trades, positions and the state; the cycle's id."""
    equity = broker.equity()
    with transaction(engine) as session:
        claimed = session.execute(
            update(BotState)
            .where(BotState.name == name, BotState.version == state.version)
            .values(version=state.version + 1)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentCycle(
                "another cycle wrote the bot's books while this one ran; "
                "this cycle's decisions and paper fills were not recorded"
            )
        for item in seen:
            session.merge(market_row(item, now))
        cycle = BotCycle(
            started_at=now,
            finished_at=now_utc(),
            status=status,
            markets=len(seen),
            mapped=sum(1 for s in seen if s.market.subject is not None),
            orders=len(trades),
            settled=settled,
            cash=broker.cash,
            equity=equity,
            exposure=broker.exposure(),
            realised_pnl=broker.realised,
            unrealised_pnl=broker.unrealised,
            fees=broker.fees,
        )
        session.add(cycle)
        session.flush()
        order_ids = {t.market_id: t.order_id for t in trades}
        session.add_all(
            decision_row(cycle.id, decision, model, order_ids.get(decision.market_id))
            for decision, model in decisions
        )
        session.add_all(BotTrade(cycle_id=cycle.id, **t.model_dump()) for t in trades)
        by_market = {decision.market_id: (decision, model) for decision, model in decisions}
        session.add_all(
            quote_row(books, cycle.id, item.market, *by_market[item.market.id], now)
            for item in seen
            if item.market.id in by_market
        )
        for position in broker.positions.values():
            session.merge(
                BotPosition(
                    unrealised_pnl=position.unrealised_pnl if not position.closed_at else 0.0,
                    **position.model_dump(),
                )
            )
        session.execute(
            update(BotState)
            .where(BotState.name == name)
            .values(
                status=status,
                live=settings.live,
                cash=broker.cash,
                fees=broker.fees,
                realised_pnl=broker.realised,
                unrealised_pnl=broker.unrealised,
                exposure=broker.exposure(),
                limits=settings.limits().model_dump(),
                peak_equity=guard.peak,
                day=guard.day,
                day_start_equity=guard.day_start,
                heartbeat_at=now,
                last_error=None,
                updated_at=now_utc(),
            )
        )
        return cycle.id


def market_row(item: Seen, now: dt.datetime) -> BotMarket:
    market = item.market
    fields: dict[str, Any] = market.model_dump(exclude={"fees_enabled", "fee_schedule", "priced"})
    return BotMarket(event_title=item.event_title, mapping=item.mapping, seen_at=now, **fields)


def decision_row(
    cycle_id: int, decision: Decision, model: str | None, order_id: str | None
) -> BotDecision:
    order = decision.order
    return BotDecision(
        cycle_id=cycle_id,
        market_id=decision.market_id,
        action=decision.action,
        reason=decision.reason,
        probability=decision.probability,
        model=model,
        best_ask=decision.best_ask,
        edge=decision.edge,
        order_price=order.price if order else None,
        order_size=order.size if order else None,
        order_id=order_id if decision.action == "buy" else None,
    )
