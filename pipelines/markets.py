"""The finishing-order markets in the online evidence: what the order models said before each
race (`market_predictions`), how right they were once it was run (`market_accuracy`, per
market), and the championship odds after each race (`championship_odds`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from feature_store.predict import MarketModel, RaceForecast, number_or_none
from models.market_baselines import EPS, brier, categories, log_loss, rps
from models.order import scored
from pipelines.championship import (
    SeasonOver,
    championship_odds,
    last_round_with_results,
    standings,
)
from spec import race_markets
from spec.points import points_system
from warehouse.db import session_factory, transaction
from warehouse.queries import unscored
from warehouse.schema import (
    ChampionshipOdds,
    MarketAccuracy,
    MarketPrediction,
    Race,
    RaceResult,
)

log = logging.getLogger(__name__)


def store_markets(
    engine: Engine, race_id: int, forecast: RaceForecast, when: dt.datetime, alias: str
) -> int:
    """The markets of `forecast` (made with a finishing-order version) for the race, replacing
    that version's rows for the race and stage; how many rows were stored."""
    if forecast.markets is None or forecast.order_model is None:
        raise ValueError("the forecast has no markets: give forecast_race an order model")
    order = forecast.order_model
    n = len(forecast.rows)
    positions = [f"p{k}" for k in range(1, n + 1) if f"p{k}" in forecast.markets.columns]
    records = [
        MarketPrediction(
            race_id=race_id,
            driver_id=int(driver),
            stage=forecast.stage,
            model_name=order["name"],
            model_version=order["version"],
            winner_version=forecast.model["version"],
            win=float(row["win"]),
            podium=float(row["podium"]),
            top6=float(row["top6"]),
            points=float(row["points"]),
            dnf=float(row["dnf"]),
            expected_points=float(row["expected_points"]),
            teammate_ahead=number_or_none(row["teammate_ahead"]),
            positions=[round(float(row[c]), 6) for c in positions],
            markets={m.column: number_or_none(row[m.column]) for m in race_markets()},
            created_at=when,
            alias=alias,
        )
        for driver, row in zip(
            forecast.rows["driver_id"], forecast.markets.to_dict("records"), strict=True
        )
    ]  # fmt: skip
    with transaction(engine) as session:
        session.execute(
            delete(MarketPrediction).where(
                MarketPrediction.race_id == race_id,
                MarketPrediction.stage == forecast.stage,
                MarketPrediction.model_name == order["name"],
                MarketPrediction.model_version == order["version"],
            )
        )
        session.add_all(records)
    return len(records)


def score_markets(engine: Engine) -> int:
    """Score every stored (race, stage, order version) whose race now has a result and that was
    not scored yet, market by market; how many (race, stage, version) were scored."""
    columns = ("race_id", "stage", "name", "version", "driver_id", "team_ahead", "positions")
    with session_factory(engine)() as session:
        pending = pd.DataFrame(
            session.execute(
                unscored(
                    MarketPrediction,
                    MarketAccuracy,
                    MarketPrediction.race_id,
                    MarketPrediction.stage,
                    MarketPrediction.model_name,
                    MarketPrediction.model_version,
                    MarketPrediction.driver_id,
                    MarketPrediction.teammate_ahead,
                    MarketPrediction.positions,
                )
            ).all(),
            columns=list(columns),
        )
        if pending.empty:
            return 0
        results = pd.DataFrame(
            session.execute(
                select(
                    RaceResult.race_id,
                    RaceResult.driver_id,
                    RaceResult.team_id,
                    RaceResult.position,
                    RaceResult.position_order,
                    Race.season,
                )
                .join(Race, Race.id == RaceResult.race_id)
                .where(RaceResult.race_id.in_([int(r) for r in pending["race_id"].unique()]))
            ).all(),
            columns=["race_id", "driver_id", "team_id", "position", "finish_order", "season"],
        )
    records = []
    for (race_id, stage, name, version), group in pending.groupby(
        ["race_id", "stage", "name", "version"]
    ):
        race = results[results["race_id"] == race_id]
        paying = points_system(int(race["season"].iloc[0])).paying
        for market, figures in market_scores(group, race, paying).items():
            records.append(
                MarketAccuracy(
                    race_id=int(race_id),  # type: ignore[call-overload]
                    stage=str(stage),
                    model_name=str(name),
                    model_version=str(version),
                    market=market,
                    **figures,
                )
            )
    with transaction(engine) as session:
        session.add_all(records)
    return int(pending.groupby(["race_id", "stage", "name", "version"]).ngroups)


def market_scores(
    stored: pd.DataFrame, result: pd.DataFrame, paying: int
) -> dict[str, dict[str, Any]]:
    """Per scored market's column (spec.scored_markets), then `position` and `h2h`: `log_loss`,
    `brier`, `rps` (positions only) and `events`, of one version's stored rows of one race
    (`driver_id`, `positions`, `team_ahead`) against the race's result rows (`driver_id`, `team_id`,
    `position`, `finish_order`). An entrant
    missing from the result did not start: not classified, and a head-to-head with them is
    void (as bookmakers settle it)."""
    race = stored.reset_index(drop=True).merge(
        result[["driver_id", "team_id", "position", "finish_order"]], on="driver_id", how="left"
    )
    n = len(race)
    table = np.zeros((n, n + 1))
    for i, row in enumerate(race["positions"]):
        k = min(len(row), n)
        table[i, :k] = row[:k]
    table[:, n] = np.clip(1 - table[:, :n].sum(axis=1), 0, 1)  # P(not classified)
    outcome = categories(race, n)  # 0…n-1 the place, n not classified
    out: dict[str, dict[str, Any]] = {
        market: {
            "log_loss": log_loss(p, y),
            "brier": brier(p, y),
            "rps": None,
            "events": n,
        }
        for market, (p, y) in scored(table, outcome + 1, paying).items()
    }
    happened = np.zeros_like(table)
    happened[np.arange(n), outcome] = 1
    chance = np.clip(table[np.arange(n), outcome], EPS, 1)
    out["position"] = {
        "log_loss": float(-np.log(chance).mean()),
        "brier": float(((table - happened) ** 2).sum(axis=1).mean()),
        "rps": float(rps(table, outcome).mean()),
        "events": n,
    }
    p_pairs, y_pairs = [], []
    order = race["finish_order"].fillna(race["finish_order"].max() + 1).fillna(n + 1)
    for _, team in race[race["team_id"].notna()].groupby("team_id"):  # both started
        if len(team) != 2 or team["team_ahead"].isna().any():
            continue  # teammate_ahead is the head-to-head of a two-car team
        a, b = team.index
        p_pairs.append(float(team["team_ahead"].loc[a]))
        y_pairs.append(float(order.loc[a] < order.loc[b]))
    if p_pairs:
        p, y = np.array(p_pairs), np.array(y_pairs)
        out["h2h"] = {"log_loss": log_loss(p, y), "brier": brier(p, y), "rps": None,
                      "events": len(p)}  # fmt: skip
    return out


def store_odds(
    engine: Engine, odds: dict[str, Any], points: dict[str, dict[str, float]] | None = None
) -> int:
    """Store `odds` (pipelines/championship.py's answer) as the season's odds after its round,
    replacing what was stored for that round; `points` the standings then (`driver` and
    `constructor` ref -> points; default: the warehouse's). Two writers of the same round at
    once: one's rows stay, the other's write is dropped (the same figures, from the same
    models). Rows stored."""
    season, after = int(odds["season"]), int(odds["after_round"])
    if points is None:
        drivers, teams, _, _ = standings(engine, season, after)
        points = {"driver": drivers, "constructor": teams}
    when = dt.datetime.fromisoformat(odds["computed_at"])
    winner, order = odds["models"]["winner"], odds["models"]["order"]
    records = [
        ChampionshipOdds(
            season=season,
            after_round=after,
            kind=kind,
            ref=entry["id"],
            p_title=float(entry["p_title"]),
            expected_points=float(entry["expected_points"]),
            points=float(points[kind].get(entry["id"], 0.0)),
            seasons=int(odds["seasons"]),
            winner_model=f"{winner['name']}@{winner['version']}",
            order_model=f"{order['name']}@{order['version']}",
            computed_at=when,
        )
        for kind, key in (("driver", "drivers"), ("constructor", "constructors"))
        for entry in odds[key]
    ]
    try:
        with transaction(engine) as session:
            session.execute(
                delete(ChampionshipOdds).where(
                    ChampionshipOdds.season == season, ChampionshipOdds.after_round == after
                )
            )
            session.add_all(records)
    except IntegrityError:
        log.info("championship odds %s after round %s: stored by another writer", season, after)
        return 0
    return len(records)


def stored_rounds(engine: Engine, season: int) -> list[int]:
    """The rounds of `season` after which odds are stored."""
    with session_factory(engine)() as session:
        return sorted(
            session.scalars(
                select(ChampionshipOdds.after_round)
                .where(ChampionshipOdds.season == season)
                .distinct()
            ).all()
        )


def odds_due(engine: Engine, season: int) -> bool:
    """Whether the season's odds after its last round with results are not stored yet."""
    return last_round_with_results(engine, season) not in stored_rounds(engine, season)


def update_championship(
    engine: Engine, season: int, winner: Any, order: MarketModel
) -> dict[str, Any] | None:
    """The season's odds after its last round with results, computed and stored when they are
    not stored yet (`None` when they are, or when the season has no race left)."""
    after = last_round_with_results(engine, season)
    if after in stored_rounds(engine, season):
        return None
    try:
        odds = championship_odds(engine, season, after, winner, order)
    except SeasonOver:
        return None
    return {"season": season, "after_round": after, "rows": store_odds(engine, odds)}


def season_story(
    engine: Engine, season: int, winner: Any, order: MarketModel, seasons: int | None = None
) -> dict[str, Any] | None:
    """The odds after every round of `season` up to its last with results that are not stored
    yet (from before round 1): how the title was decided, told by the served models once a
    season is over and no race is next (e.g. the first run on the bundled history). None when
    every round is stored already."""
    from pipelines.championship import SEASONS

    last = last_round_with_results(engine, season)
    done = set(stored_rounds(engine, season))
    stored: list[int] = []
    for after in range(0, last + 1):
        if after in done:
            continue
        try:
            odds = championship_odds(engine, season, after, winner, order, seasons or SEASONS)
        except SeasonOver:
            break  # after the final round: the title is decided, nothing to simulate
        store_odds(engine, odds)
        stored.append(after)
    return {"season": season, "rounds": stored} if stored else None
