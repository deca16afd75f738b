"""The Polymarket bot's books: its state, the markets it saw, every decision, its trades and
positions, and one row per cycle (the equity curve)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from warehouse.schema.base import Base, one_of

BOT_STATUSES = ("stopped", "running", "halted")
DECISIONS = ("buy", "skip")
TRADE_STATUSES = ("filled", "partial", "unfilled", "rejected", "open")


class BotState(Base):
    """The bot's one row: whether it trades, its cash and limits, and its risk memory (peak
    equity, the day's opening equity). `version` grows with every cycle, so two cycles that
    ran at once cannot both write their books."""

    __tablename__ = "bot_state"
    __table_args__ = (
        CheckConstraint(one_of("status", BOT_STATUSES), name="status_known"),
        CheckConstraint("cash >= 0", name="cash_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    strategy: Mapped[str] = mapped_column(String(64))
    live: Mapped[bool] = mapped_column(default=False)
    bankroll: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float, default=0.0)
    realised_pnl: Mapped[float] = mapped_column(Float, default=0.0)
    unrealised_pnl: Mapped[float] = mapped_column(Float, default=0.0)
    exposure: Mapped[float] = mapped_column(Float, default=0.0)
    limits: Mapped[dict[str, float]] = mapped_column(JSON)
    peak_equity: Mapped[float] = mapped_column(Float)
    day: Mapped[dt.date] = mapped_column(Date)
    day_start_equity: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class BotMarket(Base):
    """A Gamma market as last seen, and the race and driver it maps to (or why not)."""

    __tablename__ = "bot_markets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    condition_id: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(200))
    event_title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    group_item_title: Mapped[str | None] = mapped_column(String(200))
    outcomes: Mapped[list[str]] = mapped_column(JSON)
    outcome_prices: Mapped[list[float]] = mapped_column(JSON)
    clob_token_ids: Mapped[list[str]] = mapped_column(JSON)
    end_date: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool]
    closed: Mapped[bool]
    best_bid: Mapped[float | None] = mapped_column(Float)
    best_ask: Mapped[float | None] = mapped_column(Float)
    last_trade_price: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)
    liquidity: Mapped[float] = mapped_column(Float)
    tick_size: Mapped[float] = mapped_column(Float)
    min_size: Mapped[float] = mapped_column(Float)
    neg_risk: Mapped[bool]
    race_id: Mapped[int | None] = mapped_column(ForeignKey("races.id"))
    driver_ref: Mapped[str | None] = mapped_column(String(64))
    market_type: Mapped[str] = mapped_column(String(24), server_default="winner")
    season: Mapped[int | None]  # a title market's season
    team_ref: Mapped[str | None] = mapped_column(String(64))  # a constructors' title's team
    mapping: Mapped[str] = mapped_column(Text)  # "mapped", or why not
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class BotCycle(Base):
    """One cycle: when, what it did, and the books after it."""

    __tablename__ = "bot_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8))
    markets: Mapped[int]
    mapped: Mapped[int]
    orders: Mapped[int]
    settled: Mapped[int]
    cash: Mapped[float] = mapped_column(Float)
    equity: Mapped[float] = mapped_column(Float)
    exposure: Mapped[float] = mapped_column(Float)
    realised_pnl: Mapped[float] = mapped_column(Float)
    unrealised_pnl: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float)


class BotDecision(Base):
    """One decision about one market in one cycle: buy (with the order) or skip, and why."""

    __tablename__ = "bot_decisions"
    __table_args__ = (CheckConstraint(one_of("action", DECISIONS), name="action_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("bot_cycles.id"), index=True)
    market_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    probability: Mapped[float | None] = mapped_column(Float)
    model: Mapped[str | None] = mapped_column(String(64))  # "f1_winner_post_quali v3"
    best_ask: Mapped[float | None] = mapped_column(Float)
    edge: Mapped[float | None] = mapped_column(Float)
    order_price: Mapped[float | None] = mapped_column(Float)
    order_size: Mapped[float | None] = mapped_column(Float)
    order_id: Mapped[str | None] = mapped_column(String(100))


class BotTrade(Base):
    """An order as placed and filled (paper or live)."""

    __tablename__ = "bot_trades"
    __table_args__ = (
        CheckConstraint(one_of("side", ("buy", "sell")), name="side_known"),
        CheckConstraint(one_of("status", TRADE_STATUSES), name="status_known"),
        CheckConstraint("price > 0 AND price < 1", name="price_range"),
        CheckConstraint("filled >= 0 AND filled <= size + 0.000001", name="filled_within_size"),
        CheckConstraint("fee >= 0", name="fee_not_negative"),
    )

    order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("bot_cycles.id"), index=True)
    market_id: Mapped[str] = mapped_column(String(32), index=True)
    token: Mapped[str] = mapped_column(String(100))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[float] = mapped_column(Float)
    size: Mapped[float] = mapped_column(Float)
    filled: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10))
    fee: Mapped[float] = mapped_column(Float)
    paper: Mapped[bool]
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class BotPosition(Base):
    """Shares held of one outcome token, marked to market; closed when settled."""

    __tablename__ = "bot_positions"
    __table_args__ = (
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("mark >= 0 AND mark <= 1", name="mark_range"),
    )

    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    market_id: Mapped[str] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(64))
    size: Mapped[float] = mapped_column(Float)
    average_price: Mapped[float] = mapped_column(Float)
    mark: Mapped[float] = mapped_column(Float)
    realised_pnl: Mapped[float] = mapped_column(Float)
    unrealised_pnl: Mapped[float] = mapped_column(Float)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class BotQuote(Base):
    """A price the bot read, kept for the market benchmark: one market in one cycle, with the
    time, the displayed price (Gamma), the best quotes (the order book when the cycle read it,
    else Gamma's), their mid, and our model's probability at that moment."""

    __tablename__ = "bot_quotes"
    __table_args__ = (
        UniqueConstraint("cycle_id", "market_id"),
        CheckConstraint("price >= 0 AND price <= 1", name="price_range"),
        CheckConstraint(
            "(best_bid IS NULL OR (best_bid >= 0 AND best_bid <= 1)) AND "
            "(best_ask IS NULL OR (best_ask >= 0 AND best_ask <= 1))",
            name="quotes_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("bot_cycles.id"), index=True)
    market_id: Mapped[str] = mapped_column(String(32))
    # a traded market of the spec (spec.MARKETS: checked in code, no CHECK), or "unmapped"
    market_type: Mapped[str] = mapped_column(String(24))
    race_id: Mapped[int | None] = mapped_column(ForeignKey("races.id"), index=True)
    season: Mapped[int | None]  # a title market's season
    driver_ref: Mapped[str | None] = mapped_column(String(64))
    team_ref: Mapped[str | None] = mapped_column(String(64))
    price: Mapped[float] = mapped_column(Float)  # the Yes outcome's displayed price
    best_bid: Mapped[float | None] = mapped_column(Float)
    best_ask: Mapped[float | None] = mapped_column(Float)
    mid: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(8))  # "book" or "gamma"
    probability: Mapped[float | None] = mapped_column(Float)  # ours, when the market is priced
    model: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
