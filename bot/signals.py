"""Our model's side of the trade: the champion's win probabilities for a race, as `f1_score`
stored them in the warehouse (after each ingest, for the next race). The post-qualifying model
is used once its prediction is stored, the pre-qualifying one before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from models.registry import CHAMPION, alias_version, model_name
from spec import STAGES, WINNER
from spec import market as spec_market
from warehouse.db import session_factory
from warehouse.schema import ChampionshipOdds, Driver, MarketPrediction, Prediction


@dataclass(frozen=True)
class RaceProbabilities:
    race_id: int | None  # None: a season's title odds
    model: str  # "f1_winner_post_quali v3"
    by_driver: dict[str, float]  # driver_ref (a team's ref for constructors) → probability


# which version is champion, by model name (a function so tests and the backtest can pin it)
ChampionLookup = Callable[[str], str | None]


def champion_version(name: str) -> str | None:
    return alias_version(name, CHAMPION)


def race_probabilities(
    engine: Engine, race_id: int, champion: ChampionLookup = champion_version
) -> RaceProbabilities | None:
    """The champion's stored probabilities for the race, post-qualifying first; None when the
    champion has stored none for it (f1_score has not run since the champion changed)."""
    with session_factory(engine)() as session:
        for stage in reversed(STAGES.names):  # the freshest stage first
            name = model_name(stage)
            version = champion(name)
            if version is None:
                continue
            rows = (
                session.execute(
                    select(Driver.ref, Prediction.probability)
                    .join(Driver, Driver.id == Prediction.driver_id)
                    .where(
                        Prediction.race_id == race_id,
                        Prediction.stage == stage,
                        Prediction.model_name == name,
                        Prediction.model_version == version,
                    )
                )
                .tuples()
                .all()
            )
            if rows:
                return RaceProbabilities(race_id, f"{name} v{version}", dict(rows))
    return None


def market_probabilities(
    engine: Engine,
    race_id: int,
    market_type: str,
    champion: ChampionLookup = champion_version,
) -> RaceProbabilities | None:
    """The champion's probabilities for the race's `market_type` markets: the winner model's
    for "winner", the finishing-order champion's stored markets (`market_predictions`) for the
    podium, the top 6 and the points; post-qualifying first; None when none is stored."""
    market = spec_market(market_type)
    if market.priced_by == WINNER.name:
        return race_probabilities(engine, race_id, champion)
    # every market's probability is in `markets` by its column; rows stored before it (0022)
    # have the established markets' typed columns only
    typed = getattr(MarketPrediction, market.column, None)
    columns = [Driver.ref, MarketPrediction.markets, *([typed] if typed is not None else [])]
    with session_factory(engine)() as session:
        for stage in reversed(STAGES.names):
            name = model_name(stage, "order")
            version = champion(name)
            if version is None:
                continue
            rows = session.execute(
                select(*columns)
                .join(Driver, Driver.id == MarketPrediction.driver_id)
                .where(
                    MarketPrediction.race_id == race_id,
                    MarketPrediction.stage == stage,
                    MarketPrediction.model_name == name,
                    MarketPrediction.model_version == version,
                )
            ).all()
            priced = {}
            for ref, stored, *old in rows:
                p = stored.get(market.column) if stored else (old[0] if old else None)
                if p is not None:
                    priced[ref] = float(p)
            if priced:
                return RaceProbabilities(race_id, f"{name} v{version}", priced)
    return None


def title_probabilities(engine: Engine, season: int, kind: str) -> RaceProbabilities | None:
    """P(title) of each driver (`kind` "driver") or constructor ("constructor") of `season`,
    as the newest stored championship odds give it (after the latest round with a result);
    None when none are stored for the season."""
    with session_factory(engine)() as session:
        after = session.scalar(
            select(func.max(ChampionshipOdds.after_round)).where(
                ChampionshipOdds.season == season, ChampionshipOdds.kind == kind
            )
        )
        if after is None:
            return None
        rows = (
            session.execute(
                select(ChampionshipOdds.ref, ChampionshipOdds.p_title).where(
                    ChampionshipOdds.season == season,
                    ChampionshipOdds.kind == kind,
                    ChampionshipOdds.after_round == after,
                )
            )
            .tuples()
            .all()
        )
    return RaceProbabilities(None, f"championship odds {season} after R{after}", dict(rows))
