"""What the CLI and the API show of the bot's books, read from the warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from warehouse.db import as_utc, session_factory
from warehouse.schema import BotCycle, BotDecision, BotMarket, BotPosition, BotState, BotTrade


def _row(obj: Any, *names: str) -> dict[str, Any]:
    """The named attributes; times as aware UTC."""
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = as_utc(value) if isinstance(value, dt.datetime) else value
    return out


def open_position_rows(session: Session) -> Sequence[BotPosition]:
    """The positions not settled yet."""
    return session.scalars(select(BotPosition).where(BotPosition.closed_at.is_(None))).all()


def equity(cash: float, held: Sequence[BotPosition]) -> float:
    """Cash plus the open positions at their marks."""
    return cash + sum(p.size * p.mark for p in held)


def state_view(engine: Engine, name: str = "default") -> dict[str, Any]:
    with session_factory(engine)() as session:
        state = session.get(BotState, name)
        if state is None:
            raise LookupError("the bot has no state yet: run a cycle or start it")
        held = open_position_rows(session)
        cycles = session.scalar(select(func.count()).select_from(BotCycle)) or 0
    now = equity(state.cash, held)
    view = _row(
        state,
        "status",
        "strategy",
        "live",
        "bankroll",
        "cash",
        "exposure",
        "realised_pnl",
        "unrealised_pnl",
        "fees",
        "limits",
        "peak_equity",
        "day_start_equity",
        "heartbeat_at",
        "last_error",
    )
    view["mode"] = "live" if state.live else "paper"
    view["equity"] = now
    view["drawdown"] = (state.peak_equity - now) / state.peak_equity if state.peak_equity else 0
    view["open_positions"] = len(held)
    view["cycles"] = cycles
    return view


def markets_view(engine: Engine, mapped: bool | None = None) -> list[dict[str, Any]]:
    query = select(BotMarket).order_by(BotMarket.event_title, BotMarket.id)
    if mapped is True:
        query = query.where(BotMarket.mapping == "mapped")
    elif mapped is False:
        query = query.where(BotMarket.mapping != "mapped")
    with session_factory(engine)() as session:
        return [
            _row(
                m,
                "id",
                "event_title",
                "question",
                "group_item_title",
                "outcomes",
                "outcome_prices",
                "best_bid",
                "best_ask",
                "liquidity",
                "end_date",
                "closed",
                "market_type",
                "race_id",
                "season",
                "driver_ref",
                "team_ref",
                "mapping",
                "seen_at",
            )
            for m in session.scalars(query)
        ]


def signals_view(engine: Engine, cycle_id: int | None = None) -> dict[str, Any]:
    """Every decision of one cycle (the latest by default), buys first, then by edge."""
    with session_factory(engine)() as session:
        cycle = (
            session.get(BotCycle, cycle_id)
            if cycle_id is not None
            else session.scalars(select(BotCycle).order_by(BotCycle.id.desc()).limit(1)).first()
        )
        if cycle is None:
            raise LookupError(
                "no bot cycle has run yet" if cycle_id is None else f"no bot cycle {cycle_id}"
            )
        rows = session.execute(
            select(BotDecision, BotMarket.group_item_title, BotMarket.driver_ref)
            .outerjoin(BotMarket, BotMarket.id == BotDecision.market_id)
            .where(BotDecision.cycle_id == cycle.id)
        ).all()
    signals = [
        {
            **_row(
                d,
                "market_id",
                "action",
                "reason",
                "probability",
                "model",
                "best_ask",
                "edge",
                "order_price",
                "order_size",
                "order_id",
            ),
            "title": title,
            "driver_ref": driver,
        }
        for d, title, driver in rows
    ]
    signals.sort(
        key=lambda s: (s["action"] != "buy", -(s["edge"] if s["edge"] is not None else -9))
    )
    return {
        "cycle_id": cycle.id,
        "started_at": as_utc(cycle.started_at),
        "status": cycle.status,
        "signals": signals,
    }


def positions_view(engine: Engine, include_closed: bool = False) -> list[dict[str, Any]]:
    query = (
        select(BotPosition, BotMarket.driver_ref, BotMarket.group_item_title)
        .outerjoin(BotMarket, BotMarket.id == BotPosition.market_id)
        .order_by(BotPosition.opened_at, BotPosition.token)
    )
    if not include_closed:
        query = query.where(BotPosition.closed_at.is_(None))
    with session_factory(engine)() as session:
        return [
            {
                **_row(
                    p,
                    "market_id",
                    "token",
                    "outcome",
                    "size",
                    "average_price",
                    "mark",
                    "realised_pnl",
                    "unrealised_pnl",
                    "opened_at",
                    "closed_at",
                ),
                "driver_ref": driver,
                "title": title,
            }
            for p, driver, title in session.execute(query)
        ]


def trades_view(engine: Engine, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    with session_factory(engine)() as session:
        total = session.scalar(select(func.count()).select_from(BotTrade)) or 0
        trades = session.scalars(
            select(BotTrade)
            .order_by(BotTrade.at.desc(), BotTrade.order_id)
            .limit(limit)
            .offset(offset)
        ).all()
    names = ("order_id", "market_id", "token", "side", "price", "size", "filled", "status", "fee",
             "paper", "at")  # fmt: skip
    return {"total": total, "trades": [_row(t, *names) for t in trades]}


def pnl_view(engine: Engine, last: int = 500) -> dict[str, Any]:
    """The P&L now and the equity curve (one point per cycle, the latest `last`)."""
    state = state_view(engine)
    with session_factory(engine)() as session:
        cycles = session.scalars(select(BotCycle).order_by(BotCycle.id.desc()).limit(last)).all()
    curve = [
        _row(
            c,
            "id",
            "started_at",
            "status",
            "equity",
            "cash",
            "exposure",
            "realised_pnl",
            "unrealised_pnl",
            "fees",
        )  # fmt: skip
        for c in reversed(cycles)
    ]
    return {
        "bankroll": state["bankroll"],
        "equity": state["equity"],
        "pnl": state["equity"] - state["bankroll"],
        "realised_pnl": state["realised_pnl"],
        "unrealised_pnl": state["unrealised_pnl"],
        "fees": state["fees"],
        "drawdown": state["drawdown"],
        "curve": curve,
    }
