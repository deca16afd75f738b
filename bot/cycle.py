"""One cycle of the bot, as the `polymarket_bot` DAG, `f1 bot cycle` and the API run it:

1. read the books (state and open positions) from the warehouse;
2. fetch the open F1 markets from Gamma and map them to our races and drivers;
3. settle positions whose market resolved, mark the others at the market's price, and update
   the risk memory (a drawdown past the limit halts the bot);
4. for each market, the champion's probability against the order book: buy or skip, with why
   (a stopped bot records what it would have bought, and buys nothing);
5. write everything in one transaction: markets, the cycle, every decision, trades, positions,
   state. The state row's version guards against two cycles running at once.

A failure before the write stores nothing but the error and the heartbeat."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, update

from bot.clients import ClobClient, GammaClient, MarketApiError
from bot.live import LiveBroker
from bot.mapping import Mapper, titles
from bot.models import Limits, MarketData, OrderBook, Position, Trade
from bot.paper import PaperBroker
from bot.record import ConcurrentCycle, Seen, now_utc, write_cycle
from bot.settings import BotSettings
from bot.signals import (
    ChampionLookup,
    RaceProbabilities,
    champion_version,
    market_probabilities,
    title_probabilities,
)
from bot.strategy import Decision, Guard, blocked, decide
from bot.views import equity, open_position_rows
from spec import WINNER
from spec import market as spec_market
from warehouse.db import as_utc, insert_if_absent, session_factory, transaction
from warehouse.schema import (
    BotPosition,
    BotState,
)

log = logging.getLogger(__name__)
STRATEGY = "edge vs champion, fractional Kelly"
RESOLVED = 0.999  # a closed market whose outcome trades at 1 has resolved to it


@dataclass
class CycleReport:
    cycle_id: int
    status: str
    markets: int
    mapped: int
    orders: int
    settled: int
    equity: float
    cash: float
    decisions: list[Decision] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the DAG, the CLI and the API report of a cycle."""
        return {
            "cycle_id": self.cycle_id,
            "status": self.status,
            "markets": self.markets,
            "mapped": self.mapped,
            "orders": self.orders,
            "settled": self.settled,
            "cash": round(self.cash, 2),
            "equity": round(self.equity, 2),
        }


def ensure_state(engine: Engine, settings: BotSettings, name: str = "default") -> BotState:
    """The bot's state row, created (stopped, with the configured bankroll) the first time;
    clients racing to create it all get the one row."""
    with transaction(engine) as session:
        state = session.get(BotState, name)
        if state is not None:
            return state
        now = now_utc()
        insert_if_absent(
            session,
            BotState.__table__,
            {
                "name": name,
                "status": "stopped",
                "strategy": STRATEGY,
                "live": settings.live,
                "bankroll": settings.bankroll,
                "cash": settings.bankroll,
                "fees": 0.0,
                "realised_pnl": 0.0,
                "unrealised_pnl": 0.0,
                "exposure": 0.0,
                "limits": settings.limits().model_dump(),
                "peak_equity": settings.bankroll,
                "day": now.date(),
                "day_start_equity": settings.bankroll,
                "version": 0,
                "updated_at": now,
            },
            ["name"],
        )
        return session.get_one(BotState, name)


def set_status(engine: Engine, status: str, settings: BotSettings, name: str = "default") -> str:
    """Start (`running`) or stop (`stopped`) the bot; starting a halted bot resets its peak to
    today's equity, so the drawdown limit counts from there."""
    if status not in ("running", "stopped"):
        raise ValueError(f"status must be running or stopped, not {status!r}")
    ensure_state(engine, settings, name)
    with transaction(engine) as session:
        state = session.get(BotState, name, with_for_update=True)
        assert state is not None
        if status == "running" and state.status == "halted":
            state.peak_equity = equity(state.cash, open_position_rows(session))
            state.last_error = None
        state.status = status
        state.updated_at = now_utc()
        return status


def _position(row: BotPosition) -> Position:
    return Position(
        market_id=row.market_id,
        token=row.token,
        outcome=row.outcome,
        size=row.size,
        average_price=row.average_price,
        mark=row.mark,
        realised_pnl=row.realised_pnl,
        opened_at=as_utc(row.opened_at),
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
    )


class Bot:
    """The bot over one warehouse, with market API clients from the settings (or given)."""

    def __init__(
        self,
        engine: Engine,
        settings: BotSettings | None = None,
        gamma: GammaClient | None = None,
        clob: ClobClient | None = None,
        champion: ChampionLookup = champion_version,
        name: str = "default",
    ) -> None:
        self.engine = engine
        self.settings = settings or BotSettings()
        self.gamma = gamma or GammaClient(self.settings.gamma_url)
        self.clob = clob or ClobClient(self.settings.clob_url)
        self.champion = champion
        self.name = name
        self._books: dict[str, OrderBook] = {}

    def close(self) -> None:
        """Close the market API clients' connections."""
        self.gamma.close()
        self.clob.close()

    def cycle(self, now: dt.datetime | None = None) -> CycleReport:
        now = now or now_utc()
        state = ensure_state(self.engine, self.settings, self.name)
        try:
            return self._cycle(state, now)
        except ConcurrentCycle:
            raise
        except Exception as error:
            with transaction(self.engine) as session:
                session.execute(
                    update(BotState)
                    .where(BotState.name == self.name)
                    .values(last_error=f"{type(error).__name__}: {error}"[:2000], heartbeat_at=now)
                )
            raise

    def _broker(self, state: BotState, positions: list[Position], limits: Limits) -> PaperBroker:
        broker = (
            LiveBroker(self.settings, state.bankroll, limits.fee_rate)
            if self.settings.live
            else PaperBroker(state.bankroll, limits.fee_rate)
        )
        return broker.load(state.cash, state.fees, state.realised_pnl, positions)

    def _cycle(self, state: BotState, now: dt.datetime) -> CycleReport:
        limits = self.settings.limits()
        self._books = {}
        with session_factory(self.engine)() as session:
            positions = [_position(row) for row in open_position_rows(session)]
        broker = self._broker(state, positions, limits)
        guard = Guard(
            peak=state.peak_equity,
            day=state.day,
            day_start=state.day_start_equity,
            halted=state.status == "halted",
        )

        seen = self._markets()
        by_id = {s.market.id: s.market for s in seen}
        settled = self._settle_and_mark(broker, by_id, now)
        guard.update(broker.equity(), now, limits)
        status = "halted" if guard.halted else state.status

        decisions: list[tuple[Decision, str | None]] = []
        trades: list[Trade] = []
        probabilities: dict[tuple[int, str], RaceProbabilities | None] = {}
        for item in seen:
            decision, model = self._decide(item.market, broker, guard, limits, now, probabilities)
            order = decision.order
            if decision.action == "buy" and order is not None:
                if status != "running":
                    decision = replace(
                        decision,
                        action="skip",
                        reason=f"bot is {status}; would buy {order.size:g} at {order.price:g} "
                        f"({decision.reason})",
                    )
                else:
                    book = self._book(item.market)
                    trades.append(broker.place(order, book, item.market, now))
            decisions.append((decision, model))

        cycle_id = write_cycle(
            self.engine, self.name, self.settings, self._books, state, seen, broker, guard,
            status, decisions, trades, settled, now,
        )  # fmt: skip
        log.info(
            "bot cycle %s: %d markets, %d orders, equity %.2f",
            cycle_id,
            len(seen),
            len(trades),
            broker.equity(),
        )
        return CycleReport(
            cycle_id=cycle_id,
            status=status,
            markets=len(seen),
            mapped=sum(1 for s in seen if s.market.subject is not None),
            orders=len(trades),
            settled=settled,
            equity=broker.equity(),
            cash=broker.cash,
            decisions=[d for d, _ in decisions],
            trades=trades,
        )

    # -- the steps

    def _markets(self) -> list[Seen]:
        mapper = Mapper(self.engine)
        seen = []
        for event, market in self.gamma.markets(self.settings.tag_slug):
            found = mapper.map(event, market)
            mapped = market.model_copy(
                update={
                    "race_id": found.race_id,
                    "driver_ref": found.driver_ref,
                    "market_type": found.market_type,
                    "season": found.season,
                    "team_ref": found.team_ref,
                    "priced": found.priced,
                }
            )
            seen.append(Seen(mapped, str(event.get("title", "")), found.reason))
        return seen

    def _settle_and_mark(
        self, broker: PaperBroker, open_markets: dict[str, MarketData], now: dt.datetime
    ) -> int:
        """Settle what resolved; mark the rest at the market's displayed price. Returns the
        number of markets settled."""
        settled = 0
        for market_id in sorted({p.market_id for p in broker.open_positions()}):
            market = open_markets.get(market_id)
            if market is None or market.closed:
                try:
                    market = self.gamma.market(market_id)
                except MarketApiError as error:
                    log.warning("market %s: %s; kept at its last mark", market_id, error)
                    continue
                winners = [
                    o
                    for o, p in zip(market.outcomes, market.outcome_prices, strict=True)
                    if p >= RESOLVED
                ]
                if market.closed and len(winners) == 1:
                    broker.settle(market, winners[0], now)
                    settled += 1
                    continue
            for token, price in zip(market.clob_token_ids, market.outcome_prices, strict=True):
                broker.mark(token, price)
        return settled

    def _decide(
        self,
        market: MarketData,
        broker: PaperBroker,
        guard: Guard,
        limits: Limits,
        now: dt.datetime,
        cache: dict[tuple[int, str], RaceProbabilities | None],
    ) -> tuple[Decision, str | None]:
        subject, kind = market.subject, market.market_type
        whose = titles().get(kind)
        if whose is not None:
            if market.season is None or subject is None:
                reason = "market is not mapped to a season and a driver or team"
                return Decision(market.id, "skip", reason), None
            key = (market.season, kind)
            if key not in cache:
                cache[key] = title_probabilities(self.engine, market.season, whose)
            what = f"no championship odds stored for {market.season} (run f1_score)"
        else:
            if market.race_id is None or subject is None:
                reason = "market is not mapped to a race and driver"
                return Decision(market.id, "skip", reason), None
            key = (market.race_id, kind)
            if key not in cache:
                cache[key] = market_probabilities(self.engine, *key, champion=self.champion)
            priced_by_winner = spec_market(kind).priced_by == WINNER.name
            stored = "prediction" if priced_by_winner else f"{kind} markets"
            what = f"no champion {stored} stored for race {market.race_id} (run f1_score)"
        race = cache[key]
        if race is None:
            return Decision(market.id, "skip", what), None
        probability = race.by_driver.get(subject)
        if probability is None:
            reason = f"{race.model} has no probability for {subject}"
            return Decision(market.id, "skip", reason), race.model
        reason_blocked = blocked(market, probability, broker, guard, limits, now)
        if reason_blocked is not None:
            return Decision(market.id, "skip", reason_blocked, probability), race.model
        try:
            book = self._book(market)
        except MarketApiError as error:
            return Decision(market.id, "skip", f"order book: {error}", probability), race.model
        return decide(market, book, probability, broker, guard, limits, now), race.model

    def _book(self, market: MarketData) -> OrderBook:
        """The priced outcome's book (Yes, or a head-to-head's driver), fetched once per cycle."""
        token = market.token(market.priced)
        if token not in self._books:
            self._books[token] = self.clob.book(token)
        return self._books[token]


def cycle_task() -> dict[str, Any]:
    """The `polymarket_bot` DAG's task: one cycle on the configured stores and market APIs."""
    from warehouse.db import make_engine

    engine = make_engine()
    bot = Bot(engine)
    try:
        return bot.cycle().summary()
    finally:
        bot.close()
        engine.dispose()
