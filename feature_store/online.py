"""Online lookup: the feature vectors of one race's entrants, for serving and the bot."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, exists, null, select

from feature_store.build import (
    NoLineup,
    build_views,
    knows_race,
    previous_lineup,
    race_entrants,
)
from feature_store.frames import load_frames
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
    manifest = Manifest.read(root)
    if manifest is not None:
        rows = published(root, manifest).race(stage, season, round_)
        if rows is not None:
            return rows
    if not _race_exists(engine, season, round_):  # one indexed read, not the whole warehouse
        raise NoEntrants(f"race {season} round {round_} is not in the warehouse")
    frames = _frames(engine, manifest)
    race = frames.races[(frames.races["season"] == season) & (frames.races["round"] == round_)]
    if race.empty:
        raise NoEntrants(f"race {season} round {round_} is not in the warehouse")
    race_id, idx = (int(race[column].to_numpy()[0]) for column in ("race_id", "idx"))
    entrants = race_entrants(frames, [race_id])
    if not knows_race(frames, known.name, race_id):
        missing = "qualifying" if known.opens == "qualifying" else "practice"
        earlier = [s.name for s in STAGES if knows_race(frames, s.name, race_id)]
        raise NoEntrants(
            f"{season} round {round_} has no {missing} yet: use {' or '.join(earlier)}"
        )
    if not (frames.qualifying["race_id"] == race_id).any():
        try:
            entrants = previous_lineup(frames, idx, race_id)
        except NoLineup as error:
            raise NoEntrants(str(error)) from None
    rows = build_views(frames, (stage,), entrants=entrants)[stage]
    return rows.reset_index(drop=True)


def _race_exists(engine: Engine | Connection, season: int, round_: int) -> bool:
    found = select(Race.id).where(Race.season == season, Race.round == round_)
    with session_factory(engine)() as session:  # type: ignore[arg-type]  # a Connection binds too
        return session.scalar(found) is not None


_FRAMES: dict[tuple[str, str], Any] = {}
_FRAMES_LOCK = threading.Lock()


def _frames(engine: Engine | Connection, manifest: Manifest | None) -> Any:
    """The warehouse's frames for a race the published build does not hold: read once per
    build (requests for such races would each read the whole warehouse: seconds); read afresh
    when nothing is published (no build to tell a change by)."""
    if manifest is None or isinstance(engine, Connection):
        return load_frames(engine)
    key = (engine.url.render_as_string(), manifest.build_id)
    with _FRAMES_LOCK:  # one thread reads; the others wait for its frames
        held = _FRAMES.get(key)
        if held is None:
            _FRAMES.clear()  # only the newest build's
            held = _FRAMES[key] = load_frames(engine)
        return held


class Published:
    """One published build in memory, indexed by race: a race's rows are a slice away (the
    service answers a race it has not answered yet without reading Parquet)."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.build_id = manifest.build_id
        self.races: dict[tuple[str, int, int], pd.DataFrame] = {}
        self._series: dict[tuple[str, str, str], dict[str, list[tuple[int, int, float]]]] = {}
        self._lock = threading.Lock()
        for stage in STAGES.names:
            if not (root / f"{stage}.parquet").exists():
                continue
            rows = read_offline(stage, root)
            # the refs as Python strings: a race's rows are filtered and taken per request,
            # which costs Arrow-backed strings more than the whole rest of the answer
            text = [c for c in rows.columns if pd.api.types.is_string_dtype(rows[c])]
            # one block per dtype (Parquet gives one per column): each race's slice is then
            # a few blocks too, and the copy a request takes of it cheap
            rows = rows.astype(dict.fromkeys(text, object)).copy()
            for key, race in rows.groupby(["season", "round"], sort=False):
                season, round_ = cast(tuple[int, int], key)
                self.races[(stage, int(season), int(round_))] = race.reset_index(drop=True)

    def series(self, stage: str, key: str, ref: str, column: str) -> list[tuple[int, int, float]]:
        """(season, round, `column`) of every race at `stage` whose row `key` is `ref`, in
        race order (an index over the whole build, made once per key and column)."""
        wanted = (stage, key, column)
        index = self._series.get(wanted)
        if index is None:
            with self._lock:
                index = self._series.get(wanted)
                if index is None:
                    index = {}
                    for (at, season, round_), rows in sorted(self.races.items()):
                        if at != stage:
                            continue
                        for who, value in zip(rows[key], rows[column], strict=True):
                            index.setdefault(str(who), []).append((season, round_, float(value)))
                    self._series[wanted] = index
        return index.get(ref, [])

    def race(self, stage: str, season: int, round_: int) -> pd.DataFrame | None:
        """The race's rows at `stage`, None when the build does not hold it. A new frame on
        the same data: pandas' copy-on-write copies what a caller changes, and a column a
        caller adds is its own."""
        rows = self.races.get((stage, season, round_))
        return None if rows is None else rows.copy(deep=False)


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


class Names:
    """Every driver's and race's name by warehouse, read in one go and kept until the published
    build changes (every ingestion is followed by a build): an answer's names without a query.
    A name missing then (a driver or race added since) is read on its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, _HeldNames] = {}

    def ready(self, engine: Engine | Connection) -> bool:
        """Whether the names of the current build are held (a lookup reads no database)."""
        held = self._held.get(_url(engine))
        return held is not None and held.build == _build_id()

    def lookup(
        self, engine: Engine | Connection, ids: list[int], season: int, round_: int
    ) -> tuple[dict[int, str], str]:
        """The drivers' names (those the warehouse holds) and the race's name (NoEntrants for
        a race the warehouse does not hold)."""
        url, build = _url(engine), _build_id()
        held = self._held.get(url)
        if held is None or held.build != build:
            with self._lock:  # one thread reads them; the others wait
                held = self._held.get(url)
                if held is None or held.build != build:
                    held = self._held[url] = _HeldNames(build, *_read_all_names(engine))
        drivers, race = held.drivers, held.races.get((season, round_))
        missing = [i for i in ids if i not in drivers]
        if missing or race is None:  # added since the names were read
            found = _read_names(engine, missing, season, round_)
            if not found or found[0][2] is None:
                raise NoEntrants(f"race {season} round {round_} is not in the warehouse")
            race = held.races[(season, round_)] = str(found[0][2])
            drivers.update((int(i), str(name)) for i, name, _ in found if i is not None)
        return drivers, race


@dataclass
class _HeldNames:
    build: str | None
    drivers: dict[int, str]
    races: dict[tuple[int, int], str]


def _url(engine: Engine | Connection) -> str:
    return (engine.engine if isinstance(engine, Connection) else engine).url.render_as_string()


def _build_id() -> str | None:
    manifest = Manifest.read(store_root())
    return manifest.build_id if manifest is not None else None


def _execute(engine: Engine | Connection, query: Any) -> list[Any]:
    if isinstance(engine, Connection):
        return list(engine.execute(query).all())
    with engine.connect() as connection:  # no ORM session
        return list(connection.execute(query).all())


def _read_all_names(
    engine: Engine | Connection,
) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    drivers = _execute(engine, select(Driver.id, Driver.forename + " " + Driver.surname))
    races = _execute(engine, select(Race.season, Race.round, Race.name))
    return (
        {int(i): str(name) for i, name in drivers},
        {(int(season), int(round_)): str(name) for season, round_, name in races},
    )


def _read_names(engine: Engine | Connection, ids: list[int], season: int, round_: int) -> list[Any]:
    """(driver id, name, race name) per driver of `ids` found (one row of Nones and the race's
    name when none is asked); the race's name None when the warehouse does not hold it."""
    race_name = select(Race.name).where(Race.season == season, Race.round == round_)
    query = (
        select(
            Driver.id, Driver.forename + " " + Driver.surname, race_name.scalar_subquery()
        ).where(Driver.id.in_(ids))
        if ids
        else select(null(), null(), race_name.scalar_subquery())
    )
    return _execute(engine, query)


NAMES = Names()


def in_memory(
    engine: Engine | Connection, season: int, round_: int, stages: tuple[str, ...]
) -> bool:
    """Whether an answer for the race at one of `stages` reads only this process's memory:
    the published build is loaded and holds the race, and the names are held (the service
    computes such an answer on its event loop; anything else goes to a thread)."""
    root = store_root()
    manifest = Manifest.read(root)
    held = _PUBLISHED.get(root)
    if manifest is None or held is None or held.build_id != manifest.build_id:
        return False
    return any((stage, season, round_) in held.races for stage in stages) and NAMES.ready(engine)


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
    ids = [int(d) for d in rows["driver_id"]]
    names, race = NAMES.lookup(engine, ids, season, round_)
    p = np.asarray(probs, dtype=float)
    refs, teams = rows["driver_ref"].tolist(), rows["team_ref"].tolist()
    predictions = []
    for row in np.argsort(-p, kind="stable"):  # the most likely first; ties in row order
        entry = {
            "driver_id": refs[row],
            "driver_name": names.get(ids[row], refs[row]),
            "team_id": teams[row],
            "probability": float(p[row]),
        }
        if explanations is not None:
            entry["explanation"] = explanations[row]
        predictions.append(entry)
    return {
        "race": {"season": season, "round": round_, "name": race},
        "stage": stage,
        "predictions": predictions,
    }
