"""Online lookup: the feature vectors of one race's entrants, for serving and the bot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, exists, select

from feature_store.build import build_views
from feature_store.frames import Frames, load_frames
from feature_store.store import Manifest, read_offline, store_root
from spec import STAGES
from spec import stage as spec_stage
from warehouse.db import session_factory
from warehouse.schema import Driver, Race, RaceResult


@dataclass(frozen=True)
class RaceRef:
    """A race by id and by (season, round)."""

    race_id: int
    season: int
    round: int
    name: str


def upcoming_race(engine: Engine | Connection, today: dt.date | None = None) -> RaceRef | None:
    """The earliest race on or after `today` (UTC) that has no results yet."""
    today = today or dt.datetime.now(dt.UTC).date()
    has_results = exists().where(RaceResult.race_id == Race.id)
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        row = session.execute(
            select(Race.id, Race.season, Race.round, Race.name)
            .where(Race.date >= today, ~has_results)
            .order_by(Race.date, Race.round)
            .limit(1)
        ).first()
    return RaceRef(*row) if row else None


class NoEntrants(LookupError):
    """The race is unknown, or nobody is known to enter it yet."""


def get_entry_features(
    engine: Engine | Connection, season: int, round_: int, stage: str, root: Path | None = None
) -> pd.DataFrame:
    """Rows of the view for the race's entrants: from the published store when the race is in
    it, else built now (entrants: the qualifying list when known, else the previous race's)."""
    known = spec_stage(stage)  # UnknownName (a ValueError) names the choices
    root = root or store_root()
    if Manifest.read(root) is not None:
        rows = read_offline(stage, root, since=season)
        rows = rows[(rows["season"] == season) & (rows["round"] == round_)]
        if not rows.empty:
            return rows.reset_index(drop=True)
    frames = load_frames(engine)
    race = frames.races[(frames.races["season"] == season) & (frames.races["round"] == round_)]
    if race.empty:
        raise NoEntrants(f"race {season} round {round_} is not in the warehouse")
    race_id, idx = (int(race[column].to_numpy()[0]) for column in ("race_id", "idx"))
    entrants = frames.qualifying[frames.qualifying["race_id"] == race_id]
    if entrants.empty:
        if known.uses("qualifying"):
            earlier = [s.name for s in STAGES if not s.uses("qualifying")]
            raise NoEntrants(
                f"{season} round {round_} has no qualifying yet: use {' or '.join(earlier)}"
            )
        entrants = _previous_lineup(frames, idx, race_id)
    rows = build_views(frames, (stage,), entrants=entrants)[stage]
    return rows.reset_index(drop=True)


def _previous_lineup(frames: Frames, idx: int, race_id: int) -> pd.DataFrame:
    """The entrants of the latest earlier race that has a qualifying list, moved to `race_id`."""
    earlier = frames.races[frames.races["idx"] < idx].sort_values("idx", ascending=False)
    for previous in earlier["race_id"]:
        lineup = frames.qualifying[frames.qualifying["race_id"] == previous]
        if not lineup.empty:
            return lineup.assign(race_id=race_id, position=pd.NA, q1=None, q2=None, q3=None)
    raise NoEntrants("no earlier race has a lineup")


def prediction_card(
    engine: Engine | Connection,
    rows: pd.DataFrame,
    probs: Any,
    season: int,
    round_: int,
    stage: str,
    explanations: list[list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """`{"race", "stage", "predictions"}` with driver names, sorted by probability; each
    prediction with its `explanation` when `explanations` (one per row of `rows`) is given."""
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        race = session.execute(
            select(Race.name).where(Race.season == season, Race.round == round_)
        ).scalar_one()
        names = dict(
            session.execute(
                select(Driver.id, Driver.forename + " " + Driver.surname).where(
                    Driver.id.in_([int(d) for d in rows["driver_id"]])
                )
            )
            .tuples()
            .all()
        )
    ordered = rows.assign(probability=probs, _row=range(len(rows))).sort_values(
        "probability", ascending=False
    )
    columns = ("driver_id", "driver_ref", "team_ref", "probability", "_row")
    predictions = []
    for ident, ref, team, p, row in zip(*(ordered[c].tolist() for c in columns), strict=True):
        entry = {
            "driver_id": ref,
            "driver_name": names.get(int(ident), ref),
            "team_id": team,
            "probability": float(p),
        }
        if explanations is not None:
            entry["explanation"] = explanations[row]
        predictions.append(entry)
    return {
        "race": {"season": season, "round": round_, "name": race},
        "stage": stage,
        "predictions": predictions,
    }
