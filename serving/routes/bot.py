"""`/api/v1/bot`: the Polymarket bot's state, markets, signals, positions, trades and P&L for
signed-in users; start, stop and a cycle on demand for admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel

from bot import views
from bot.clients import MarketApiError
from bot.cycle import Bot, ensure_state, set_status
from bot.record import ConcurrentCycle
from bot.settings import BotSettings
from serving.auth import current_claims, require
from serving.deps import EngineDep, SessionRoute

router = APIRouter(route_class=SessionRoute, prefix="/bot", tags=["polymarket bot"])
Reader = Annotated[dict[str, Any], Depends(current_claims)]
Admin = Annotated[dict[str, Any], require("admin")]


class BotStateOut(BaseModel):
    status: str
    mode: str
    strategy: str
    live: bool
    bankroll: float
    cash: float
    equity: float
    exposure: float
    realised_pnl: float
    unrealised_pnl: float
    fees: float
    drawdown: float
    peak_equity: float
    day_start_equity: float
    limits: dict[str, float]
    open_positions: int
    cycles: int
    heartbeat_at: dt.datetime | None
    last_error: str | None


class MarketOut(BaseModel):
    id: str
    event_title: str
    question: str
    group_item_title: str | None
    outcomes: list[str]
    outcome_prices: list[float]
    best_bid: float | None
    best_ask: float | None
    liquidity: float
    end_date: dt.datetime | None
    closed: bool
    market_type: str  # winner, podium, top6, points, drivers_title, constructors_title
    race_id: int | None
    season: int | None  # a title market's
    driver_ref: str | None
    team_ref: str | None  # a constructors' title market's
    mapping: str
    seen_at: dt.datetime


class SignalOut(BaseModel):
    market_id: str
    title: str | None
    driver_ref: str | None
    action: str
    reason: str
    probability: float | None
    model: str | None
    best_ask: float | None
    edge: float | None
    order_price: float | None
    order_size: float | None
    order_id: str | None


class SignalsOut(BaseModel):
    cycle_id: int
    started_at: dt.datetime
    status: str
    signals: list[SignalOut]


class PositionOut(BaseModel):
    market_id: str
    title: str | None
    driver_ref: str | None
    token: str
    outcome: str
    size: float
    average_price: float
    mark: float
    realised_pnl: float
    unrealised_pnl: float
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class TradeOut(BaseModel):
    order_id: str
    market_id: str
    token: str
    side: str
    price: float
    size: float
    filled: float
    status: str
    fee: float
    paper: bool
    at: dt.datetime


class TradesOut(BaseModel):
    total: int
    trades: list[TradeOut]


class CurvePoint(BaseModel):
    id: int
    started_at: dt.datetime
    status: str
    equity: float
    cash: float
    exposure: float
    realised_pnl: float
    unrealised_pnl: float
    fees: float


class PnlOut(BaseModel):
    bankroll: float
    equity: float
    pnl: float
    realised_pnl: float
    unrealised_pnl: float
    fees: float
    drawdown: float
    curve: list[CurvePoint]


class CycleOut(BaseModel):
    cycle_id: int
    status: str
    markets: int
    mapped: int
    orders: int
    settled: int
    cash: float
    equity: float


def _state(engine: Any) -> dict[str, Any]:
    ensure_state(engine, BotSettings())
    return views.state_view(engine)


def _not_found(error: LookupError) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error))


@router.get("/state", response_model=BotStateOut)
def state(engine: EngineDep, _: Reader) -> dict[str, Any]:
    """Status (stopped, running, halted), paper or live, cash, equity, exposure, P&L, limits,
    the last heartbeat and error."""
    return _state(engine)


@router.get("/markets", response_model=list[MarketOut])
def markets(
    engine: EngineDep,
    _: Reader,
    mapped: Annotated[bool | None, Query(description="Only mapped (true) or unmapped.")] = None,
) -> list[dict[str, Any]]:
    """The F1 markets as last seen, with the race and driver each maps to, or why not."""
    return views.markets_view(engine, mapped)


@router.get(
    "/signals", response_model=SignalsOut, responses={404: {"description": "no such cycle yet"}}
)
def signals(
    engine: EngineDep,
    _: Reader,
    cycle: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Default: the latest.")
    ] = None,
) -> dict[str, Any]:
    """Every decision of a cycle, buy or skip, with the model's probability, the best ask, the
    edge and the reason."""
    try:
        return views.signals_view(engine, cycle)
    except LookupError as error:
        raise _not_found(error) from None


@router.get("/positions", response_model=list[PositionOut])
def positions(
    engine: EngineDep,
    _: Reader,
    closed: Annotated[bool, Query(description="Include settled positions.")] = False,
) -> list[dict[str, Any]]:
    return views.positions_view(engine, include_closed=closed)


@router.get("/trades", response_model=TradesOut)
def trades(
    engine: EngineDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """Orders as placed and filled, newest first."""
    return views.trades_view(engine, limit, offset)


@router.get("/pnl", response_model=PnlOut)
def pnl(
    engine: EngineDep, _: Reader, last: Annotated[int, Query(ge=1, le=10_000)] = 500
) -> dict[str, Any]:
    """P&L now and the equity curve, one point per cycle."""
    _state(engine)
    return views.pnl_view(engine, last)


@router.post("/start", response_model=BotStateOut)
def start(engine: EngineDep, _: Admin) -> dict[str, Any]:
    """Let the bot place orders (a halted bot restarts with its peak reset)."""
    set_status(engine, "running", BotSettings())
    return views.state_view(engine)


@router.post("/stop", response_model=BotStateOut)
def stop(engine: EngineDep, _: Admin) -> dict[str, Any]:
    """Stop placing orders; cycles still record the signals."""
    set_status(engine, "stopped", BotSettings())
    return views.state_view(engine)


@router.post(
    "/cycle",
    response_model=CycleOut,
    responses={
        409: {"description": "another cycle wrote the books meanwhile"},
        502: {"description": "a market API (Gamma or the CLOB) failed"},
    },
)
def cycle(engine: EngineDep, _: Admin) -> dict[str, Any]:
    """Run one cycle now (as the DAG does). 502 when a market API fails, 409 when another
    cycle wrote the books meanwhile."""
    bot = Bot(engine)
    try:
        report = bot.cycle()
    except MarketApiError as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(error)) from None
    except ConcurrentCycle as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    finally:
        bot.close()
    return report.summary()
