"""The market as a benchmark: the prices the bot read (`bot_quotes`), normalised into
probabilities, scored beside our model's at the same moments once the race has a result.

At each moment (a bot cycle, or a time point of a replayed price history) the markets of one
race and type that have both a price and a model probability form one field: the market's
prices (the mid of the best quotes, else the displayed price) are divided by their sum, the
model's probabilities likewise over the same drivers, so both say how the same field splits.
A moment whose field lacks the winner is not scored (neither side gave it a probability). Log
loss is −ln P(winner) (floored at 1e-6), Brier Σ (P − outcome)² over the field; a race's score
is the mean over its moments, the overall one the mean over races.

The podium, top-6 and points markets are yes/no questions whose probabilities over a field do
not sum to one: each market is scored on its own (binary log loss and (P − outcome)², the
market's price against our probability, both clipped to [1e-6, 1 − 1e-6]), the mean over the
moment's markets being the moment's score.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from spec import MARKETS
from spec import market as spec_market
from spec.points import points_system

FLOOR = 1e-6


@dataclass(frozen=True)
class Moment:
    """One field at one moment: the market's prices and our probabilities per outcome."""

    prices: dict[Hashable, float]
    model: dict[Hashable, float]
    winner: Hashable


@dataclass(frozen=True)
class Score:
    market_log_loss: float
    model_log_loss: float
    market_brier: float
    model_brier: float


@dataclass(frozen=True)
class BinaryMoment:
    """Yes/no markets at one moment: (market price, our probability, happened) per market."""

    markets: list[tuple[float, float, bool]]


def _binary(p: float, happened: bool) -> tuple[float, float]:
    p = min(max(p, FLOOR), 1 - FLOOR)
    return -math.log(p if happened else 1 - p), (p - happened) ** 2


def score(moment: Moment | BinaryMoment) -> Score | None:
    """Both sides' log loss and Brier on one moment; None when it cannot be scored."""
    if isinstance(moment, BinaryMoment):
        if not moment.markets:
            return None
        theirs = [_binary(price, happened) for price, _, happened in moment.markets]
        ours = [_binary(mine, happened) for _, mine, happened in moment.markets]
        n = len(moment.markets)
        return Score(
            sum(m[0] for m in theirs) / n,
            sum(m[0] for m in ours) / n,
            sum(m[1] for m in theirs) / n,
            sum(m[1] for m in ours) / n,
        )
    field = [k for k in moment.prices if k in moment.model and moment.prices[k] > 0]
    market_total = sum(moment.prices[k] for k in field)
    model_total = sum(moment.model[k] for k in field)
    if moment.winner not in field or market_total <= 0 or model_total <= 0:
        return None
    market = {k: moment.prices[k] / market_total for k in field}
    model = {k: moment.model[k] / model_total for k in field}

    def brier(probabilities: dict[Hashable, float]) -> float:
        return sum((p - (k == moment.winner)) ** 2 for k, p in probabilities.items())

    return Score(
        -math.log(max(market[moment.winner], FLOOR)),
        -math.log(max(model[moment.winner], FLOOR)),
        brier(market),
        brier(model),
    )


@dataclass(frozen=True)
class RaceBenchmark:
    """One race and market type: the mean scores over its scored moments."""

    race: str
    market_type: str
    moments: int
    skipped: int
    market_log_loss: float
    model_log_loss: float
    market_brier: float
    model_brier: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    race: str, market_type: str, moments: Iterable[Moment | BinaryMoment]
) -> RaceBenchmark | None:
    """A race's benchmark from its moments; None when none could be scored."""
    scores, skipped = [], 0
    for moment in moments:
        scored = score(moment)
        if scored is None:
            skipped += 1
        else:
            scores.append(scored)
    if not scores:
        return None

    def mean(name: str) -> float:
        return sum(getattr(s, name) for s in scores) / len(scores)

    return RaceBenchmark(
        race,
        market_type,
        len(scores),
        skipped,
        mean("market_log_loss"),
        mean("model_log_loss"),
        mean("market_brier"),
        mean("model_brier"),
    )


def overall(races: list[RaceBenchmark]) -> list[dict[str, Any]]:
    """Per market type: races, moments and the mean of the race scores."""
    by_type: dict[str, list[RaceBenchmark]] = defaultdict(list)
    for race in races:
        by_type[race.market_type].append(race)
    rows = []
    for market_type, group in sorted(by_type.items()):
        n = len(group)
        rows.append(
            {
                "market_type": market_type,
                "races": n,
                "moments": sum(r.moments for r in group),
                **{
                    name: sum(getattr(r, name) for r in group) / n
                    for name in ("market_log_loss", "model_log_loss", "market_brier", "model_brier")
                },
            }
        )
    return rows


def from_warehouse(source: Engine | Session, season: int | None = None) -> list[RaceBenchmark]:
    """Every race with recorded quotes and a winner, per market type, oldest first (read
    through `source`: an engine, or the caller's session)."""
    from warehouse.db import session_factory
    from warehouse.schema import BotQuote, Driver, Race, RaceResult

    winners = (
        select(RaceResult.race_id, Driver.ref)
        .join(Driver, Driver.id == RaceResult.driver_id)
        .where(RaceResult.position == 1)
        .subquery()
    )
    finished = (
        select(RaceResult.race_id, Driver.ref, RaceResult.position)
        .join(Driver, Driver.id == RaceResult.driver_id)
        .subquery()
    )
    query = (
        select(BotQuote, Race, winners.c.ref, finished.c.position)
        .join(Race, Race.id == BotQuote.race_id)
        .join(winners, winners.c.race_id == Race.id)
        .outerjoin(
            finished,
            (finished.c.race_id == Race.id) & (finished.c.ref == BotQuote.driver_ref),
        )
        .where(BotQuote.market_type != "unmapped", BotQuote.driver_ref.is_not(None))
        .order_by(Race.season, Race.round, BotQuote.cycle_id)
    )
    if season is not None:
        query = query.where(Race.season == season)
    fields: dict[tuple[int, int, str, str], dict[int, Moment | BinaryMoment]] = defaultdict(dict)
    if isinstance(source, Session):
        found_rows = source.execute(query).all()
    else:
        with session_factory(source)() as session:
            found_rows = session.execute(query).all()
    cache: dict[int, dict[str, tuple[int, int]]] = {}
    for quote, race, winner, position in found_rows:
        key = (race.season, race.round, race.name, quote.market_type)
        price = quote.mid if quote.mid is not None else quote.price
        if spec_market(quote.market_type).exclusive:
            moment = fields[key].setdefault(quote.cycle_id, Moment({}, {}, winner))
            assert isinstance(moment, Moment)
            moment.prices[quote.driver_ref] = price
            if quote.probability is not None:
                moment.model[quote.driver_ref] = quote.probability
        elif quote.probability is not None:
            binary = fields[key].setdefault(quote.cycle_id, BinaryMoment([]))
            assert isinstance(binary, BinaryMoment)
            market = spec_market(quote.market_type)
            ahead = None
            if market.settles == "ahead_of_teammate":
                ahead = _ahead_of_teammates(source, race.id, quote.driver_ref, cache)
            happened = market.happened(position, points_system(race.season).paying, ahead)
            if happened is None:
                continue
            binary.markets.append((price, quote.probability, happened))
    found = []
    for (season_, round_, name, market_type), moments in fields.items():
        summary = summarise(f"{season_} R{round_} {name}", market_type, moments.values())
        if summary is not None:
            found.append(summary)
    return found + _titles(source, season)


def _ahead_of_teammates(
    source: Engine | Session,
    race_id: int,
    driver: str,
    cache: dict[int, dict[str, tuple[int, int]]],
) -> bool | None:
    """Whether `driver` finished ahead of every teammate in the race (None: no result)."""
    from warehouse.db import session_factory
    from warehouse.schema import Driver, RaceResult

    if race_id not in cache:
        query = (
            select(Driver.ref, RaceResult.team_id, RaceResult.position_order)
            .join(Driver, Driver.id == RaceResult.driver_id)
            .where(RaceResult.race_id == race_id)
        )
        if isinstance(source, Session):
            rows = source.execute(query).tuples().all()
        else:
            with session_factory(source)() as session:
                rows = session.execute(query).tuples().all()
        cache[race_id] = {ref: (team, order) for ref, team, order in rows}
    results = cache[race_id]
    if driver not in results:
        return None
    team, order = results[driver]
    return all(o > order for ref, (t, o) in results.items() if t == team and ref != driver)


def _title_markets() -> dict[str, str]:
    """The title markets: market type -> whose title (driver or constructor)."""
    return {m.name: m.title_of for m in MARKETS if m.settles == "title"}


def _titles(source: Engine | Session, season: int | None) -> list[RaceBenchmark]:
    """The title markets of every season whose last race has standings: the champion is the
    one first in them (one field, one winner, as a race's winner markets)."""
    from warehouse.db import session_factory
    from warehouse.schema import (
        BotQuote,
        ConstructorStanding,
        Driver,
        DriverStanding,
        Race,
        Team,
    )

    def run(session: Session) -> list[RaceBenchmark]:
        query = select(BotQuote).where(BotQuote.market_type.in_(tuple(_title_markets())))
        if season is not None:
            query = query.where(BotQuote.season == season)
        quotes = session.scalars(query.order_by(BotQuote.season, BotQuote.cycle_id)).all()
        champions: dict[tuple[int, str], str | None] = {}
        fields: dict[tuple[int, str], dict[int, Moment]] = defaultdict(dict)
        for quote in quotes:
            subject = quote.team_ref or quote.driver_ref
            if quote.season is None or subject is None:
                continue
            key = (quote.season, quote.market_type)
            if key not in champions:
                last = session.scalar(
                    select(Race.id).where(Race.season == quote.season)
                    .order_by(Race.round.desc()).limit(1)
                )  # fmt: skip
                if _title_markets()[quote.market_type] == "driver":
                    champions[key] = session.scalar(
                        select(Driver.ref).join(DriverStanding)
                        .where(DriverStanding.race_id == last, DriverStanding.position == 1)
                    )  # fmt: skip
                else:
                    champions[key] = session.scalar(
                        select(Team.ref).join(ConstructorStanding)
                        .where(ConstructorStanding.race_id == last,
                               ConstructorStanding.position == 1)
                    )  # fmt: skip
            champion = champions[key]
            if champion is None:
                continue  # not decided yet
            moment = fields[key].setdefault(quote.cycle_id, Moment({}, {}, champion))
            moment.prices[subject] = quote.mid if quote.mid is not None else quote.price
            if quote.probability is not None:
                moment.model[subject] = quote.probability
        found = []
        for (year, market_type), moments in fields.items():
            label = f"{year} {_title_markets()[market_type]}s' title"
            summary = summarise(label, market_type, moments.values())
            if summary is not None:
                found.append(summary)
        return found

    if isinstance(source, Session):
        return run(source)
    with session_factory(source)() as session:
        return run(session)


def from_replay(replay: Any) -> list[RaceBenchmark]:
    """The benchmark of a backtest replay (`bot.backtest.Replay`), per market type: at every
    time point of its price histories, the markets quoted then against the model's
    probabilities then (the winner and title markets as one field with one winner; the others
    each a yes/no question about the priced outcome)."""
    name = replay.description.split(":")[0].strip() or "replay"
    found = []
    for market_type in sorted({item.market_type for item in replay.markets}):
        items = [
            (i, item)
            for i, item in enumerate(replay.markets)
            if item.market_type == market_type and item.winner is not None
        ]
        times = sorted({point.t for _, item in items for point in item.history})
        moments: list[Moment | BinaryMoment] = []
        if spec_market(market_type).exclusive:
            winners = [i for i, item in items if item.paid]
            if len(winners) != 1:
                continue  # not one field with one winner: nothing to score
            for t in times:
                prices: dict[Hashable, float] = {}
                model: dict[Hashable, float] = {}
                for i, item in items:
                    price, probability = item.price(t), item.model_probability(t)
                    if price is not None and probability is not None:
                        prices[i], model[i] = price, probability
                moments.append(Moment(prices, model, winners[0]))
        else:
            for t in times:
                quoted = [
                    (item.price(t), item.model_probability(t), item.paid) for _, item in items
                ]
                priced = [(p, m, y) for p, m, y in quoted if p is not None and m is not None]
                moments.append(BinaryMoment(priced))
        summary = summarise(name, market_type, moments)
        if summary is not None:
            found.append(summary)
    return found
