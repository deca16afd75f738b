"""Championship odds as of a round: the standings from the warehouse, every remaining race
drawn from the pre-qualifying distribution of the next race (its entrants are the current
line-ups, its features what is known now: a later race's own features would know results
that have not happened yet), sprints included, under the season's points system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from feature_store.online import get_entry_features
from feature_store.predict import MarketModel, RaceModel
from models.championship import SEASONS, Odds, RemainingRace, simulate
from models.pyfunc import order_of
from pipelines.figures import save as save_figure
from spec import STAGES
from spec import stage as spec_stage
from spec.points import points_system
from warehouse.db import session_factory
from warehouse.schema import Driver, Race, RaceResult, SprintResult, Team

FIRST = STAGES[0].name  # remaining races are predicted before anything of them is known


class SeasonOver(LookupError):
    """No race of the season is left after the round asked for."""


def standings(
    engine: Engine | Connection, season: int, after_round: int
) -> tuple[dict[str, float], dict[str, float], dict[str, int], dict[str, int]]:
    """Drivers' and constructors' points (races and sprints) and wins after `after_round`."""
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        rows: list[Any] = []
        for table in (RaceResult, SprintResult):
            rows += session.execute(
                select(Driver.ref, Team.ref, table.points)
                .select_from(table)
                .join(Race, Race.id == table.race_id)
                .join(Driver, Driver.id == table.driver_id)
                .join(Team, Team.id == table.team_id)
                .where(Race.season == season, Race.round <= after_round)
            ).all()
    frame = pd.DataFrame(rows, columns=["driver", "team", "points"])
    drivers = frame.groupby("driver")["points"].sum().to_dict()
    teams = frame.groupby("team")["points"].sum().to_dict()
    wins_frame = pd.DataFrame(_race_wins(engine, season, after_round), columns=["driver", "team"])
    return (
        {str(k): float(v) for k, v in drivers.items()},
        {str(k): float(v) for k, v in teams.items()},
        {str(k): int(v) for k, v in wins_frame["driver"].value_counts().items()},
        {str(k): int(v) for k, v in wins_frame["team"].value_counts().items()},
    )


def _race_wins(engine: Engine | Connection, season: int, after_round: int) -> list[Any]:
    with session_factory(engine)() as session:  # type: ignore[arg-type]
        return list(
            session.execute(
                select(Driver.ref, Team.ref)
                .select_from(RaceResult)
                .join(Race, Race.id == RaceResult.race_id)
                .join(Driver, Driver.id == RaceResult.driver_id)
                .join(Team, Team.id == RaceResult.team_id)
                .where(Race.season == season, Race.round <= after_round, RaceResult.position == 1)
            ).all()
        )


def remaining(engine: Engine | Connection, season: int, after_round: int) -> list[tuple[int, bool]]:
    """(round, has a sprint) of each race of the season after `after_round`."""
    with session_factory(engine)() as session:  # type: ignore[arg-type]
        return [
            (int(r), s is not None)
            for r, s in session.execute(
                select(Race.round, Race.sprint_date)
                .where(Race.season == season, Race.round > after_round)
                .order_by(Race.round)
            ).all()
        ]


def last_round_with_results(engine: Engine | Connection, season: int) -> int:
    """The season's last round with a race result (0 before the first)."""
    with session_factory(engine)() as session:  # type: ignore[arg-type]
        found = session.scalar(
            select(func.max(Race.round))
            .join(RaceResult, RaceResult.race_id == Race.id)
            .where(Race.season == season)
        )
    return int(found or 0)


def championship_odds(
    engine: Engine | Connection,
    season: int,
    after_round: int | None,
    winner: RaceModel,
    order: MarketModel,
    seasons: int = SEASONS,
) -> dict[str, Any]:
    """`{"season", "after_round", "seasons", "models", "drivers": [...], "constructors":
    [...]}`, each entry with `p_title` and `expected_points`, most likely champion first."""
    after = last_round_with_results(engine, season) if after_round is None else after_round
    races = remaining(engine, season, after)
    driver_points, team_points, driver_wins, team_wins = standings(engine, season, after)
    if not races:
        raise SeasonOver(f"{season} has no race after round {after}")
    rows = get_entry_features(engine, season, races[0][0], FIRST)
    p_win = winner.probabilities(rows, FIRST)
    model = order_of(getattr(order, "model", order))
    q = model.dnf.predict(rows)
    system = points_system(season)
    final = max(r for r, _ in races)
    drivers, teams = list(rows["driver_ref"]), list(rows["team_ref"])
    schedule = [
        RemainingRace(r, drivers, teams, p_win, q, sprint, r == final) for r, sprint in races
    ]
    odds = simulate(
        driver_points, team_points, schedule, system, model.alpha, seasons,
        driver_wins=driver_wins, team_wins=team_wins,
    )  # fmt: skip
    return _answer(season, after, odds, winner, order)


def _answer(
    season: int, after: int, odds: Odds, winner: RaceModel, order: MarketModel
) -> dict[str, Any]:
    def table(names: list[str], title: Any, points: Any) -> list[dict[str, Any]]:
        entries = [
            {"id": n, "p_title": float(t), "expected_points": round(float(p), 2)}
            for n, t, p in zip(names, title, points, strict=True)
        ]
        return sorted(entries, key=lambda e: (-e["p_title"], -e["expected_points"]))

    return {
        "season": season,
        "after_round": after,
        "seasons": odds.seasons,
        "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "models": {
            "winner": {"name": winner.name, "version": winner.version},
            "order": {"name": order.name, "version": order.version},
        },
        "drivers": table(odds.drivers, odds.driver_title, odds.driver_points),
        "constructors": table(odds.teams, odds.team_title, odds.team_points),
    }


def backtest(
    engine: Engine | Connection,
    rows: pd.DataFrame,
    first: int,
    last: int,
    seasons: int = SEASONS,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """For each season of `first`…`last` and each round before its last: P(title) of the
    eventual drivers' and constructors' champions, from models fitted on earlier seasons only
    (pipelines/order_backtest.py) and the next race's pre-qualifying rows."""
    from pipelines.order_backtest import season_inputs

    out = []
    years = list(range(first, last + 1))
    for done, season in enumerate(years, start=1):
        inputs = season_inputs(rows, FIRST, season)
        if inputs is None:
            continue
        test = inputs.rows
        final_round = int(test["round"].max())
        drivers, teams, _, _ = standings(engine, season, final_round)
        champion = max(drivers, key=lambda d: drivers[d])
        constructor = max(teams, key=lambda t: teams[t])
        system = points_system(season)
        for after in range(0, final_round):
            race = test[test["round"] == after + 1]
            if race.empty:
                continue
            points, team_points, wins, team_wins = standings(engine, season, after)
            schedule = [
                RemainingRace(r, list(race["driver_ref"]), list(race["team_ref"]),
                              race["p_win"].to_numpy(), race["q"].to_numpy(),
                              sprint, r == final_round)
                for r, sprint in remaining(engine, season, after)
            ]  # fmt: skip
            alpha = spec_stage(FIRST).model.alpha
            odds = simulate(points, team_points, schedule, system, alpha, seasons,
                            driver_wins=wins, team_wins=team_wins)  # fmt: skip
            title = dict(zip(odds.drivers, odds.driver_title, strict=True))
            team_title = dict(zip(odds.teams, odds.team_title, strict=True))
            out.append(
                {"season": season, "after_round": after, "rounds": final_round,
                 "champion": champion, "p_champion": float(title.get(champion, 0.0)),
                 "constructor": constructor,
                 "p_constructor": float(team_title.get(constructor, 0.0))}
            )  # fmt: skip
        if progress:
            progress("seasons", done, len(years))
    return out


def plot_backtest(results: list[dict[str, Any]], out: Path) -> Path:
    """P(title) of each season's eventual champions after each round, one line per season."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    by_season: dict[int, list[dict[str, Any]]] = {}
    for row in results:
        by_season.setdefault(row["season"], []).append(row)
    colours = plt.cm.viridis(np.linspace(0, 1, max(len(by_season), 1)))
    for colour, (season, rows) in zip(colours, sorted(by_season.items()), strict=True):
        share = [r["after_round"] / r["rounds"] for r in rows]
        axes[0].plot(share, [r["p_champion"] for r in rows], color=colour, label=str(season))
        axes[1].plot(share, [r["p_constructor"] for r in rows], color=colour)
    axes[0].set_title("P(title) of the eventual drivers' champion")
    axes[1].set_title("P(title) of the eventual constructors' champion")
    for axis in axes:
        axis.set_xlabel("share of the season run")
    axes[0].set_ylabel("P(title)")
    axes[0].legend(ncol=3, fontsize=7)
    out.parent.mkdir(parents=True, exist_ok=True)
    return save_figure(figure, out)
