"""Replay recorded prices through the same strategy, limits and paper broker as a live cycle,
then settle each market by its known outcome: P&L, maximum drawdown, trades and hit rate.

The file is JSON:

    {"bankroll": 1000, "limits": {"min_edge": 0.05, ...},     (both optional)
     "spread": 0.02, "depth": 500,       (the simulated book: ask = price + spread / 2 on the
                                          tick grid, `depth` shares at it; optional)
     "markets": [
        {"market": {...a Gamma market, as GET /markets sends it...},
         "driver_ref": "norris",         (optional, for the report)
         "market_type": "podium",        (winner, podium, top6, points, h2h, drivers_title or
                                          constructors_title; default winner)
         "priced": "Yes",                (the outcome the history and probability are about:
                                          Yes, or a head-to-head's first-named driver)
         "probability": 0.62,            (our model's, fixed; or "probabilities": [{"t", "p"}])
         "history": [{"t": 1733011200, "p": 0.48}, ...],   (CLOB /prices-history points)
         "winner": "Yes"}                (the outcome it resolved to; omit if it has not)
     ]}

Times are unix seconds. At each time point every market with a price by then is marked, and
decided on with the probability known at that time."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.models import Level, Limits, MarketData, OrderBook
from bot.paper import PaperBroker
from bot.strategy import Guard, decide
from spec import MARKETS


class Point(BaseModel):
    t: int
    p: float = Field(ge=0, le=1)


class ReplayMarket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    market: MarketData
    driver_ref: str | None = None
    market_type: str = "winner"  # a traded market of the spec (spec.MARKETS)
    priced: str = "Yes"
    probability: float | None = Field(default=None, ge=0, le=1)
    probabilities: list[Point] | None = None
    history: list[Point] = Field(min_length=1)
    winner: str | None = None
    _history_times: list[int] = PrivateAttr(default_factory=list)
    _probability_times: list[int] = PrivateAttr(default_factory=list)

    @field_validator("market_type")
    @classmethod
    def _traded(cls, value: str) -> str:
        traded = [m.name for m in MARKETS if m.traded]
        if value not in traded:
            raise ValueError(f"unknown market type {value!r}: use one of {', '.join(traded)}")
        return value

    @model_validator(mode="after")
    def _checked_and_sorted(self) -> ReplayMarket:
        if self.probability is None and not self.probabilities:
            raise ValueError(f"market {self.market.id}: give probability or probabilities")
        for name, outcome in (("winner", self.winner), ("priced", self.priced)):
            if outcome is not None and outcome not in self.market.outcomes:
                raise ValueError(f"market {self.market.id}: {name} {outcome!r} is not an outcome")
        self.history.sort(key=lambda point: point.t)
        self._history_times = [point.t for point in self.history]
        if self.probabilities:
            self.probabilities.sort(key=lambda point: point.t)
            self._probability_times = [point.t for point in self.probabilities]
        return self

    def price(self, t: int) -> float | None:
        """The last price at or before `t`."""
        return _last(self.history, self._history_times, t)

    @property
    def token(self) -> str:
        """The priced outcome's token: the one the history quotes and the bot buys."""
        return self.market.token(self.priced)

    @property
    def paid(self) -> bool:
        """Whether the priced outcome won."""
        return self.winner == self.priced

    def model_probability(self, t: int) -> float | None:
        if self.probabilities:
            return _last(self.probabilities, self._probability_times, t)
        return self.probability


def _last(points: list[Point], times: list[int], t: int) -> float | None:
    """The value of the last of `points` (sorted, at `times`) at or before `t`."""
    index = bisect.bisect_right(times, t) - 1
    return points[index].p if index >= 0 else None


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    bankroll: float = Field(default=1000.0, gt=0)
    limits: Limits = Field(default_factory=Limits)
    spread: float = Field(default=0.02, ge=0, lt=0.5)
    depth: float = Field(default=500.0, gt=0)
    markets: list[ReplayMarket] = Field(min_length=1)


@dataclass
class BacktestReport:
    start: float
    end: float
    pnl: float
    max_drawdown: float  # fraction of the peak
    trades: int
    settled: int
    won: int
    fees: float
    curve: list[tuple[int, float]] = field(default_factory=list)
    # per market type: markets, filled trades, P&L after fees (settled, or marked if undecided)
    by_type: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def hit_rate(self) -> float | None:
        """Share of the settled positions that paid out."""
        return self.won / self.settled if self.settled else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "pnl": round(self.pnl, 2),
            "max_drawdown": round(self.max_drawdown, 4),
            "trades": self.trades,
            "settled": self.settled,
            "won": self.won,
            "hit_rate": None if self.hit_rate is None else round(self.hit_rate, 4),
            "fees": round(self.fees, 4),
            "points": len(self.curve),
            "by_type": {
                kind: {name: round(value, 2) for name, value in figures.items()}
                for kind, figures in sorted(self.by_type.items())
            },
        }


def load(path: Path) -> Replay:
    """The replay file, validated; errors name the file and the field."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: {error}") from None
    try:
        return Replay.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{path}: {where}: {first['msg']}") from None


def _book(market: MarketData, price: float, spread: float, depth: float) -> OrderBook:
    tick = market.tick_size
    ask = min(math.ceil(round((price + spread / 2) / tick, 6)) * tick, 1 - tick)
    token = market.token(market.priced)
    return OrderBook(asset_id=token, asks=[Level(price=max(ask, tick), size=depth)])


def run(replay: Replay, progress: Callable[[int, int], None] | None = None) -> BacktestReport:
    limits = replay.limits
    broker = PaperBroker(replay.bankroll, limits.fee_rate)
    times = sorted({point.t for item in replay.markets for point in item.history})
    start = dt.datetime.fromtimestamp(times[0], dt.UTC)
    guard = Guard.start(replay.bankroll, start)
    curve: list[tuple[int, float]] = []
    for step, t in enumerate(times, start=1):
        now = dt.datetime.fromtimestamp(t, dt.UTC)
        quoted = [(item, item.price(t)) for item in replay.markets]
        for item, price in quoted:
            if price is not None:
                broker.mark(item.token, price)
        guard.update(broker.equity(), now, limits)
        for item, price in quoted:
            if price is None:
                continue
            # a replayed market is about a known driver (or team), named or not
            known = {"driver_ref": item.driver_ref or "?", "priced": item.priced}
            market = item.market.model_copy(update=known | {"market_type": item.market_type})
            book = _book(market, price, replay.spread, replay.depth)
            decision = decide(market, book, item.model_probability(t), broker, guard, limits, now)
            if decision.order is not None:
                broker.place(decision.order, book, market, now)
        curve.append((t, broker.equity()))
        if progress:
            progress(step, len(times))
    settled = won = 0
    end_time = times[-1] + 1
    for item in replay.markets:
        if item.winner is None:
            continue
        held = broker.positions.get(item.token)
        if held is not None and held.closed_at is None and held.size > 0:
            settled += 1
            won += item.paid
        broker.settle(item.market, item.winner, dt.datetime.fromtimestamp(end_time, dt.UTC))
    curve.append((end_time, broker.equity()))
    peak, drawdown = curve[0][1], 0.0
    for _, equity in curve:
        peak = max(peak, equity)
        drawdown = max(drawdown, (peak - equity) / peak if peak > 0 else 0.0)
    filled = sum(1 for trade in broker.trades if trade.filled > 0)
    by_type: dict[str, dict[str, float]] = {}
    for item in replay.markets:
        figures = by_type.setdefault(item.market_type, {"markets": 0, "trades": 0, "pnl": 0.0})
        figures["markets"] += 1
        fills = [t for t in broker.trades if t.token == item.token and t.filled]
        figures["trades"] += len(fills)
        held = broker.positions.get(item.token)
        if held is not None:  # after fees, so that the types' P&L add up to the whole
            marked = held.unrealised_pnl if held.closed_at is None else 0.0
            figures["pnl"] += held.realised_pnl + marked - sum(t.fee for t in fills)
    end = broker.equity()
    return BacktestReport(
        start=replay.bankroll,
        end=end,
        pnl=end - replay.bankroll,
        max_drawdown=drawdown,
        trades=filled,
        settled=settled,
        won=won,
        fees=broker.fees,
        curve=curve,
        by_type=by_type,
    )


def plot(report: BacktestReport, path: Path, title: str) -> Path:
    """The equity curve as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [dt.datetime.fromtimestamp(t, dt.UTC) for t, _ in report.curve]
    figure, axes = plt.subplots(figsize=(9, 4))
    equities = [equity for _, equity in report.curve]
    axes.plot(times, equities, drawstyle="steps-post")  # type: ignore[arg-type]  # dates are fine
    axes.axhline(report.start, color="grey", linewidth=0.8, linestyle="--")
    rate = "n/a" if report.hit_rate is None else f"{report.hit_rate:.0%}"
    axes.set_title(
        f"{title}: P&L {report.pnl:+.2f}, max drawdown {report.max_drawdown:.1%}, "
        f"{report.trades} trades, hit rate {rate}"
    )
    axes.set_ylabel("equity (USDC)")
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
