"""Walk-forward backtest of the finishing-order distribution, market by market.

For each season Y: the winner model (the served recipe) and the DNF model are fitted on the
seasons before Y; each race of Y gets its distribution (models/distribution.py) and the
baselines' (models/market_baselines.py, fitted on the 10 seasons before Y). Scored with proper
scores: log loss and Brier per market (win, podium, top 6, points, DNF; each entrant a yes/no
event), the ranked probability score over positions (not classified last), and the teammate
head-to-head log loss (the official order, non-classified cars ranked by laps run).

`develop` chooses α (the placing temperature) and checks the DNF model's inputs on the
2006–2013 development window, never on the test window.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import spec
from models.baselines import HISTORY
from models.distribution import distribution
from models.dnf import HISTORY as DNF_HISTORY
from models.dnf import DnfModel
from models.ensemble import Ensemble, Recipe
from models.market_baselines import (
    Reference,
    brier,
    categories,
    fit_keyed,
    fit_uniform,
    log_loss,
    rps,
)
from models.metrics import bootstrap_mean
from models.order import scored
from pipelines.figures import save as save_figure
from spec import stage as spec_stage
from spec.points import points_system

log = logging.getLogger(__name__)
START = 1981


def scored_columns() -> tuple[str, ...]:
    """The scored markets' columns (win, podium, top6, points, dnf): the report's keys."""
    return tuple(m.column for m in spec.scored_markets())


ALPHAS = (0.6, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5)
DEVELOPMENT = (2006, 2013)
Progress = Callable[[str, int, int], None]


@dataclass
class SeasonInputs:
    """What one test season's distributions are built from: its rows with `p_win` and `q`."""

    season: int
    rows: pd.DataFrame
    references: list[Reference] = field(default_factory=list)
    # the earlier stages the stage is compared with: their served P(win) and P(DNF) per row
    earlier: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def reference_key(stage: str) -> tuple[str, str]:
    """The keyed baseline of a stage: grid-only once the grid is known, else the
    championship order."""
    if spec_stage(stage).uses("qualifying"):
        return "grid", "grid"
    return "championship_position", "championship"


def season_inputs(
    rows: pd.DataFrame, stage: str, season: int, start: int = START
) -> SeasonInputs | None:
    """Fit the winner and DNF models on the seasons before `season`; P(win) and P(DNF) of
    each entrant of `season`, and the baselines fitted on the HISTORY seasons before it."""
    train = rows[(rows["season"] >= start) & (rows["season"] < season)]
    test = rows[rows["season"] == season].copy()
    if test.empty or train.empty:
        return None
    winner = Ensemble(Recipe(stage)).fit(train)
    test["p_win"] = winner.predict(test)["ensemble"].to_numpy()
    recent_train = train[train["season"] >= season - DNF_HISTORY]
    test["q"] = DnfModel(stage).fit(recent_train).predict(test)
    recent = rows[(rows["season"] >= season - HISTORY) & (rows["season"] < season)]
    column, name = reference_key(stage)
    references = [fit_keyed(recent, column, name), fit_uniform(recent)]
    earlier = {
        other: (
            Ensemble(Recipe(other)).fit(train).forecast(test),
            DnfModel(other).fit(recent_train).predict(test),
        )
        for other in spec_stage(stage).model.compared_with
    }
    return SeasonInputs(season, test, references, earlier)


def score_season(inputs: SeasonInputs, alpha: float) -> pd.DataFrame:
    """One row per (race, entrant, forecaster) with every market's probability and outcome,
    its RPS, and per teammate pair the head-to-head probability (`h2h_p`, `h2h_y`)."""
    parts = []
    system = points_system(inputs.season)
    last_round = int(inputs.rows["round"].max())
    for race_id, race in inputs.rows.groupby("race_id", sort=False):
        race = race.reset_index(drop=True)
        n = len(race)
        outcome = categories(race, n)
        model = distribution(
            race["p_win"].to_numpy(),
            race["q"].to_numpy(),
            system,
            alpha=alpha,
            last_round=int(race["round"].iloc[0]) == last_round,
        )
        forecasts: dict[str, tuple[np.ndarray, Any]] = {
            "model": (np.column_stack([model.position, model.dnf]), model.ahead)
        }
        for reference in inputs.references:
            forecasts[reference.name] = (reference.positions(race), reference)
        rows = inputs.rows["race_id"].to_numpy() == race_id
        for other, (p_win, q) in inputs.earlier.items():
            earlier = distribution(
                p_win[rows], q[rows], system, alpha=spec_stage(other).model.alpha,
                last_round=int(race["round"].iloc[0]) == last_round,
            )  # fmt: skip
            forecasts[other] = (np.column_stack([earlier.position, earlier.dnf]), earlier.ahead)
        pairs = _teammates(race)
        for name, (positions, ahead) in forecasts.items():
            frame = _markets(race, positions, outcome, system.paying, n)
            frame["forecaster"] = name
            frame["race_id"] = race_id
            frame["season"] = inputs.season
            parts.append(frame)
            for a, b in pairs:
                p = ahead[a, b] if isinstance(ahead, np.ndarray) else ahead.ahead(race, a, b)
                y = float(race["finish_order"].iloc[a] < race["finish_order"].iloc[b])
                parts.append(
                    pd.DataFrame(
                        {
                            "forecaster": [name],
                            "race_id": [race_id],
                            "season": [inputs.season],
                            "h2h_p": [p],
                            "h2h_y": [y],
                        }
                    )  # fmt: skip
                )
    return pd.concat(parts, ignore_index=True)


def _teammates(race: pd.DataFrame) -> list[tuple[int, int]]:
    pairs = []
    for _, team in race.groupby("team_ref"):
        index = sorted(team.index)
        pairs += [(a, b) for i, a in enumerate(index) for b in index[i + 1 :]]
    return pairs


def _markets(
    race: pd.DataFrame, positions: np.ndarray, outcome: np.ndarray, paying: int, n: int
) -> pd.DataFrame:
    place = outcome + 1  # 1…n classified, n + 1 not
    markets = scored(positions[:, : n + 1], place, paying)
    frame = pd.DataFrame(
        {
            **{f"{column}_p": p for column, (p, _) in markets.items()},
            **{f"{column}_y": y for column, (_, y) in markets.items()},
            "rps": rps(positions, outcome),
        }
    )
    frame["driver_id"] = race["driver_id"].to_numpy()
    return frame


def summarise(scored: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per forecaster: log loss and Brier per market, mean RPS, head-to-head log loss."""
    out: dict[str, dict[str, float]] = {}
    for name, frame in scored.groupby("forecaster", sort=False):
        entries = frame[frame["rps"].notna()]
        pairs = frame[frame["h2h_p"].notna()]
        row: dict[str, float] = {}
        for market in scored_columns():
            p, y = entries[f"{market}_p"].to_numpy(), entries[f"{market}_y"].to_numpy()
            row[f"{market}_log_loss"] = log_loss(p, y)
            row[f"{market}_brier"] = brier(p, y)
        row["rps"] = float(entries["rps"].mean())
        row["h2h_log_loss"] = log_loss(pairs["h2h_p"].to_numpy(), pairs["h2h_y"].to_numpy())
        row["races"] = float(entries["race_id"].nunique())
        out[str(name)] = row
    return out


def compare_markets(scored: pd.DataFrame, a: str, b: str) -> dict[str, Any]:
    """Forecaster `a` against `b` on the same races, per scored market: the per-race mean log
    loss and Brier of its yes/no events, a − b, with 95% paired race-bootstrap intervals."""
    entries = scored[scored["rps"].notna() & scored["forecaster"].isin([a, b])]
    out: dict[str, Any] = {"a": a, "b": b}
    for market in scored_columns():
        p = np.clip(entries[f"{market}_p"].to_numpy(dtype=float), 1e-12, 1 - 1e-12)
        y = entries[f"{market}_y"].to_numpy(dtype=float)
        per = entries[["forecaster", "race_id"]].assign(
            log_loss=-(y * np.log(p) + (1 - y) * np.log(1 - p)), brier=(p - y) ** 2
        )
        races = per.groupby(["forecaster", "race_id"])[["log_loss", "brier"]].mean()
        diff = pd.DataFrame(races.loc[a] - races.loc[b]).dropna()
        out[market] = {
            metric: bootstrap_mean(np.asarray(diff[metric], dtype=float))
            for metric in ("log_loss", "brier")
        }
        out["races"] = len(diff)
    return out


def walk_forward(
    rows: pd.DataFrame,
    stage: str,
    first: int,
    last: int,
    alphas: tuple[float, ...] | None = None,
    progress: Progress | None = None,
) -> dict[float, pd.DataFrame]:
    """Scored forecasts of every race of `first`…`last`, per α (default: the stage's)."""
    alphas = alphas or (spec_stage(stage).model.alpha,)
    scored: dict[float, list[pd.DataFrame]] = {a: [] for a in alphas}
    seasons = list(range(first, last + 1))
    for done, season in enumerate(seasons, start=1):
        inputs = season_inputs(rows, stage, season)
        if inputs is not None:
            for alpha in alphas:
                scored[alpha].append(score_season(inputs, alpha))
        if progress:
            progress(f"{stage} {season}", done, len(seasons))
    return {a: pd.concat(parts, ignore_index=True) for a, parts in scored.items() if parts}


def develop(rows: pd.DataFrame, stage: str, progress: Progress | None = None) -> dict[str, Any]:
    """Each α's scores on the development window, and the α with the lowest mean RPS."""
    scored = walk_forward(rows, stage, *DEVELOPMENT, alphas=ALPHAS, progress=progress)
    table = {str(a): summarise(frame)["model"] for a, frame in scored.items()}
    best = min(table, key=lambda a: table[a]["rps"])
    return {
        "stage": stage,
        "window": list(DEVELOPMENT),
        "alphas": table,
        "chosen": float(best),
        "at_chosen": summarise(scored[float(best)]),  # beside the baselines
    }


def reliability(scored: pd.DataFrame, market: str, bins: int = 10) -> list[dict[str, float]]:
    """Predicted against observed, in bins of equal count of the forecast probability."""
    entries = scored[scored["rps"].notna()]
    p, y = entries[f"{market}_p"].to_numpy(), entries[f"{market}_y"].to_numpy()
    order = np.argsort(p)
    table = []
    for chunk in np.array_split(order, bins):
        if chunk.size:
            table.append({"mean_p": float(p[chunk].mean()), "rate": float(y[chunk].mean()),
                          "n": int(chunk.size)})  # fmt: skip
    return table


def report(scored: pd.DataFrame, stage: str, alpha: float) -> dict[str, Any]:
    """`{"stage", "alpha", "seasons", "baseline", "overall": {forecaster: scores},
    "reliability": {market: {forecaster: bins}}}`."""
    _, keyed = reference_key(stage)
    return {
        "stage": stage,
        "alpha": alpha,
        "seasons": sorted(int(s) for s in scored["season"].unique()),
        "baseline": keyed,
        "overall": summarise(scored),
        "against_earlier": [
            compare_markets(scored, "model", other)
            for other in spec_stage(stage).model.compared_with
        ],
        "reliability": {
            market: {
                name: reliability(frame, market)
                for name, frame in scored.groupby("forecaster", sort=False)
                if name != "uniform"
            }
            for market in scored_columns()
        },
    }


def write_report(results: list[dict[str, Any]], out: Path) -> list[Path]:
    """The JSON report at `out` and beside it, per stage, two plots: each market's log loss
    and Brier against the baselines, and each market's reliability."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    paths = [out]
    markets = scored_columns()
    for result in results:
        stage, overall = result["stage"], result["overall"]
        names = list(overall)
        figure, axes = plt.subplots(1, 2, figsize=(12, 4))
        x = np.arange(len(markets) + 2)
        labels = [*markets, "RPS ×10", "h2h"]
        for i, name in enumerate(names):
            row = overall[name]
            losses = [row[f"{m}_log_loss"] for m in markets] + [row["rps"] * 10,
                                                                 row["h2h_log_loss"]]  # fmt: skip
            briers = [row[f"{m}_brier"] for m in markets]
            width = 0.8 / len(names)
            axes[0].bar(x + i * width, losses, width, label=name)
            axes[1].bar(np.arange(len(markets)) + i * width, briers, width, label=name)
        axes[0].set_xticks(x + 0.4 - 0.4 / len(names), labels)
        axes[0].set_title(f"{stage}: log loss per market (lower is better)")
        axes[1].set_xticks(np.arange(len(markets)) + 0.4 - 0.4 / len(names), list(markets))
        axes[1].set_title("Brier per market (lower is better)")
        axes[0].legend()
        paths.append(save_figure(figure, out.with_name(f"{out.stem}_{stage}_scores.png")))
        figure, axes = plt.subplots(1, len(markets), figsize=(4 * len(markets), 4))
        for axis, market in zip(axes, markets, strict=True):
            axis.plot([0, 1], [0, 1], color="grey", linestyle=":")
            for name, table in result["reliability"][market].items():
                axis.plot([r["mean_p"] for r in table], [r["rate"] for r in table], "o-",
                          label=name)  # fmt: skip
            axis.set_title(f"{stage}: {market}")
            axis.set_xlabel("forecast probability")
        axes[0].set_ylabel("observed rate")
        axes[0].legend()
        paths.append(save_figure(figure, out.with_name(f"{out.stem}_{stage}_reliability.png")))
    return paths
