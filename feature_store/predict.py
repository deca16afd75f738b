"""The one path that predicts a race: a (stage, target, model) and a race in, every entrant's
probability out. The CLI (`f1 predict`), the DAGs (`f1_score` stores what it returns), the API
(by race, next race, what-if) and, through the stored predictions, the bot all go through
`forecast_race`; none of them fetches rows or calls a model on its own.

The model is anything with the `RaceModel` methods: `models/pyfunc.py`'s `LoadedModel` for a
registry version, the service's `Served` for what it holds in memory. This module only asks;
it imports no model code (feature_store sits below models in the import graph).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.online import NoEntrants, get_entry_features, prediction_card
from spec import STAGES, race_markets
from spec import stage as spec_stage
from spec import target as spec_target


class Versioned(Protocol):
    """A loaded registry version: its model's name, its version and the alias it is used by."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def alias(self) -> str: ...


class RaceModel(Versioned, Protocol):
    """A loaded model version of one target and stage."""

    def probabilities(self, rows: pd.DataFrame, stage: str) -> np.ndarray:
        """One probability per row of one race's feature rows, in their order."""
        ...

    def explanations(self, rows: pd.DataFrame, stage: str) -> list[list[dict[str, Any]]]:
        """Per row, the inputs that moved its probability most (ValueError if it cannot)."""
        ...


class MarketModel(Versioned, Protocol):
    """A loaded finishing-order model version (target `order`)."""

    def markets(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Per row (with `p_win`): win, podium, top6, points, dnf, expected_points,
        teammate_ahead and p1…p40 (models/order.py)."""
        ...


class UnknownEntrant(LookupError):
    """A what-if grid names a driver who is not an entrant of the race."""

    def __init__(self, index: int, driver: str, season: int, round_: int) -> None:
        super().__init__(f"driver {driver} is not an entrant of {season} round {round_}")
        self.index, self.driver = index, driver


@dataclass(frozen=True)
class RaceForecast:
    """A race's entrants' feature rows with the model's `probability`, and who said it."""

    season: int
    round: int
    stage: str
    target: str
    rows: pd.DataFrame
    model: dict[str, str]
    reasons: list[list[dict[str, Any]]] | None = None
    markets: pd.DataFrame | None = None  # one row per row of `rows`
    order_model: dict[str, str] | None = None

    def card(self, engine: Engine | Connection) -> dict[str, Any]:
        """`{"race", "stage", "model", "predictions": [...]}` sorted by probability, as the
        API and `f1 predict --json` give it."""
        answer = prediction_card(
            engine,
            self.rows,
            self.rows["probability"].to_numpy(),
            self.season,
            self.round,
            self.stage,
            self.reasons,
        )
        answer["model"] = dict(self.model)
        if self.markets is not None:
            by_driver = dict(
                zip(self.rows["driver_ref"], self.markets.to_dict("records"), strict=True)
            )
            # p1, p2, … up to the field's size (the model gives at most 40 positions)
            positions = [f"p{k}" for k in range(1, len(self.rows) + 1)]
            positions = [c for c in positions if c in self.markets.columns]
            for entry in answer["predictions"]:
                row = by_driver[entry["driver_id"]]
                entry["markets"] = {
                    **{k: number_or_none(row[k]) for k in market_fields()},
                    "positions": [float(row[c]) for c in positions],
                }
            answer["order_model"] = dict(self.order_model or {})
        return answer


def market_fields() -> list[str]:
    """An entrant's `markets` in a card: every race market's column but the winner's (the
    card's `probability`), and expected points."""
    return [*(m.column for m in race_markets() if m.in_card), "expected_points"]


def number_or_none(value: Any) -> float | None:
    """A float, or None for NaN (no single teammate: null in JSON and in the warehouse)."""
    return None if value != value else float(value)  # NaN (no single teammate): null


def forecast_race(
    engine: Engine | Connection,
    season: int,
    round_: int,
    stage: str,
    model: RaceModel,
    *,
    target: str = "winner",
    explain: bool = False,
    grid: Mapping[str, int] | None = None,
    markets: MarketModel | None = None,
) -> RaceForecast:
    """The race's forecast by `model` at `stage` (NoEntrants for an unknown race or one nobody
    is known to enter; UnknownName for a stage or target the spec does not declare).

    `grid` (driver ref -> grid slot) asks "what if they started in this order": only the
    drivers named are entered, ranked by their slots, each with their other features as of the
    race and no qualifying lap time; the stage must be one that knows the grid. When the race
    has no qualifying yet, the rows of the earliest stage are used with the grid put in.

    `markets`, a finishing-order version of the same stage, adds every market read off the
    race's distribution, its P(win) the model's."""
    known, wanted = spec_stage(stage), spec_target(target)
    if grid is None:
        rows = get_entry_features(engine, season, round_, known.name)
    else:
        if not known.uses("qualifying"):
            raise ValueError(f"a what-if grid needs a stage that knows the grid, not {stage}")
        rows = _grid_rows(engine, season, round_, known.name, grid)
    reasons = model.explanations(rows, known.name) if explain else None
    rows = rows.assign(probability=model.probabilities(rows, known.name))
    ref = {"name": model.name, "version": model.version, "alias": model.alias}
    if markets is None:
        return RaceForecast(season, round_, known.name, wanted.name, rows, ref, reasons)
    table = markets.markets(rows.assign(p_win=rows["probability"]))
    order = {"name": markets.name, "version": markets.version, "alias": markets.alias}
    return RaceForecast(season, round_, known.name, wanted.name, rows, ref, reasons, table, order)


def _grid_rows(
    engine: Engine | Connection, season: int, round_: int, stage: str, grid: Mapping[str, int]
) -> pd.DataFrame:
    try:
        rows = get_entry_features(engine, season, round_, stage)
    except NoEntrants:
        rows = get_entry_features(engine, season, round_, STAGES[0].name)  # may raise too
    refs = rows["driver_ref"].tolist()
    known = set(refs)
    for index, driver in enumerate(grid):
        if driver not in known:
            raise UnknownEntrant(index, driver, season, round_)
    named = [i for i, ref in enumerate(refs) if ref in grid]
    slots = np.array([grid[refs[i]] for i in named], dtype=float)
    order = np.argsort(slots, kind="stable")  # ranked by slot; equal slots in row order
    rank = np.empty(len(slots))
    rank[order] = np.arange(1, len(slots) + 1)
    put: dict[str, Any] = {"grid": rank, "quali_gap_pct": np.nan}
    if "sprint_finish" not in rows:
        put["sprint_finish"] = np.nan
    return rows.iloc[named].reset_index(drop=True).assign(**put)  # one new frame
