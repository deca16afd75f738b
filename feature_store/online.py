"""Online lookup: the feature vectors of one race's entrants, for serving and the bot."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, exists, select

from feature_store.build import NoLineup, build_views, previous_lineup
from feature_store.frames import load_frames
from feature_store.store import Manifest, read_offline, store_root
from spec import STAGE_NAMES, STAGES
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
    manifest = Manifest.read(root)
    if manifest is not None:
        rows = published(root, manifest).race(stage, season, round_)
        if rows is not None:
            return rows
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
        try:
            entrants = previous_lineup(frames, idx, race_id)
        except NoLineup as error:
            raise NoEntrants(str(error)) from None
    rows = build_views(frames, (stage,), entrants=entrants)[stage]
    return rows.reset_index(drop=True)


class Published:
    """One published build in memory, indexed by race: a race's rows are a slice away (the
    service answers a race it has not answered yet without reading Parquet)."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.build_id = manifest.build_id
        self.stages: dict[str, tuple[pd.DataFrame, dict[tuple[int, int], Any]]] = {}
        for stage in STAGE_NAMES:
            if not (root / f"{stage}.parquet").exists():
                continue
            rows = read_offline(stage, root)
            self.stages[stage] = (rows, rows.groupby(["season", "round"]).indices)

    def race(self, stage: str, season: int, round_: int) -> pd.DataFrame | None:
        found = self.stages.get(stage)
        if found is None:
            return None
        rows, index = found
        at = index.get((season, round_))
        return None if at is None else rows.iloc[at].reset_index(drop=True)


KEPT_ROOTS = 2  # a process serves one store; tests and tools may open a few
_PUBLISHED: dict[Path, Published] = {}
_PUBLISHED_LOCK = threading.Lock()


def published(root: Path, manifest: Manifest) -> Published:
    """The build `manifest` names, in memory (read once per build; the last build of the
    last KEPT_ROOTS store roots is kept)."""
    held = _PUBLISHED.get(root)
    if held is not None and held.build_id == manifest.build_id:
        return held
    with _PUBLISHED_LOCK:  # one thread reads a new build; the others wait for it
        held = _PUBLISHED.get(root)
        if held is None or held.build_id != manifest.build_id:
            held = Published(root, manifest)
            _PUBLISHED.pop(root, None)
            while len(_PUBLISHED) >= KEPT_ROOTS:  # the least recently loaded goes
                _PUBLISHED.pop(next(iter(_PUBLISHED)))
            _PUBLISHED[root] = held
        return held


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
