"""Race predictions as the API and `f1 predict --json` give them, computed once per
(race, stage, model version), encoded once, and cached."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from feature_store.predict import forecast_race
from feature_store.store import Manifest, store_root
from serving.cache import Cache
from serving.served import Served
from spec import STAGES

Found = Literal["local", "shared", "computed"]


MAX_SLOT = 40  # the widest grid on record had 34 starters


class Computing:
    """At most `slots` answers computed at once (`F1_SERVICE_COMPUTE_SLOTS`, default 1).

    Computing an answer is Python holding the GIL for milliseconds (pandas, the model, the
    encoding); four threads computing at once take turns every switch interval and each
    answer takes four times longer, plus the cost of the switching (on 2 cores: 119 what-ifs
    a second with the pool's four threads computing together, against the figures in the
    README with one). A request past the slots waits for one without holding the GIL; the
    other routes' threads are not held back."""

    def __init__(self, slots: int = 1) -> None:
        self.resize(slots)
        self._held = threading.local()  # the semaphore a thread acquired (resize swaps it)

    def resize(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(slots)

    def __enter__(self) -> None:
        slots = self.slots
        slots.acquire()
        self._held.slots = slots

    def __exit__(self, *exc: object) -> None:
        self._held.slots.release()


computing = Computing()


class RaceRef(BaseModel):
    season: int
    round: int
    name: str


class ModelRef(BaseModel):
    name: str
    version: str
    alias: str


class Reason(BaseModel):
    feature: str
    words: str
    value: float
    contribution: float  # log-odds against the race's average entrant


class Markets(BaseModel):
    """The driver's markets, read off the race's finishing-order distribution (its P(win) is
    the entry's `probability`): every race market of the spec by its column (those below,
    and any market added to the spec since, under its column)."""

    model_config = ConfigDict(extra="allow")

    podium: float = Field(description="P(finishes in the top 3)")
    top6: float = Field(description="P(finishes in the top 6)")
    points: float = Field(description="P(finishes in a paying position, that season's system)")
    dnf: float = Field(description="P(not classified)")
    expected_points: float
    teammate_ahead: float | None = Field(
        description="P(finishes ahead of the teammate); null without exactly one teammate"
    )
    positions: list[float] = Field(
        description="P(finishes k-th) for k = 1…entrants; with `dnf` they sum to 1 (from "
        "20,000 simulated orders: P(finishes 1st) is the entry's `probability` within "
        "sampling error)"
    )


class Entry(BaseModel):
    driver_id: str
    driver_name: str
    team_id: str
    probability: float
    explanation: list[Reason] | None = None
    markets: Markets | None = None


class PredictionOut(BaseModel):
    race: RaceRef
    stage: str
    model: ModelRef
    features_as_of: str | None = None
    predictions: list[Entry]
    order_model: ModelRef | None = Field(
        default=None, description="the finishing-order version of the markets (`markets=true`)"
    )


def cache_key(
    served: Served,
    features: str,
    season: int,
    round_: int,
    stage: str,
    explain: bool = False,
    order: Served | None = None,
) -> str:
    # The alias is part of the answer, so a version promoted from challenger to champion gets
    # a new entry rather than an answer naming its old alias; the feature build is part of
    # it, so new data (or a version served again after a rollback) is never answered from an
    # entry computed before.
    return (
        f"prediction:{season}:{round_}:{stage}:{served.name}:{served.version}:{served.alias}"
        f":{features}{':explain' if explain else ''}"
        f"{f':markets:{order.version}:{order.alias}' if order is not None else ''}"
    )


def race_prediction(
    engine: Engine,
    cache: Cache,
    served: Served,
    features: str,
    season: int,
    round_: int,
    stage: str,
    explain: bool = False,
    order: Served | None = None,
) -> tuple[bytes, Found]:
    """Every entrant's win probability from `served` (with `order`, a finishing-order version,
    every market too), as the encoded `PredictionOut`, and where it came from (raises
    NoEntrants for an unknown race or one nobody is known to enter; with `explain`,
    ValueError when the model cannot explain itself). In a thread: it may wait on the
    database, Redis and the other computing threads."""
    key = cache_key(served, features, season, round_, stage, explain, order)
    hit = cache.get(key)
    if hit is not None:
        return hit
    with computing:
        body = encoded_prediction(engine, served, season, round_, stage, explain, order)
    cache.set(key, body)
    return body, "computed"


def encoded_prediction(
    engine: Engine,
    served: Served,
    season: int,
    round_: int,
    stage: str,
    explain: bool = False,
    order: Served | None = None,
) -> bytes:
    """The encoded `PredictionOut`, computed now (no cache)."""
    manifest = Manifest.read(store_root())
    forecast = forecast_race(engine, season, round_, stage, served, explain=explain, markets=order)
    answer = forecast.card(engine)
    if manifest is not None and _published(forecast.rows, manifest):
        answer["features_as_of"] = manifest.built_at
    else:
        answer["features_as_of"] = dt.datetime.now(dt.UTC).isoformat()
    return PredictionOut.model_validate(answer).model_dump_json().encode()


def _published(rows: pd.DataFrame, manifest: Manifest) -> bool:
    # The online lookup serves published rows when the race is in the store; it builds rows on
    # the spot only for races after the last published build.
    last = manifest.stages.get(str(rows["stage"].iloc[0]), {}).get("last")
    return bool(last) and [int(rows["season"].iloc[0]), int(rows["round"].iloc[0])] <= list(
        last or []
    )


def grid_stage() -> str:
    """The stage a what-if grid is answered at: the first that knows the grid."""
    return next(s.name for s in STAGES if s.uses("qualifying"))


@dataclass(frozen=True)
class GridProblem:
    """What is wrong with one slot of a what-if grid (`index`: its place in the grid given)."""

    index: int
    field: str  # "position" or "driver_id"
    message: str
    value: object


def grid_problems(slots: Sequence[tuple[str, int]]) -> list[GridProblem]:
    """What is wrong with a what-if grid given as (driver, slot) pairs, for the API and the
    race page alike: a slot outside 1–40, a slot given twice, a driver on it twice, fewer than
    two drivers."""
    problems: list[GridProblem] = []
    taken: dict[int, str] = {}
    seen: set[str] = set()
    for i, (driver, slot) in enumerate(slots):
        if not 1 <= slot <= MAX_SLOT:
            message = f"{driver}: the grid slot must be between 1 and {MAX_SLOT}"
            problems.append(GridProblem(i, "position", message, slot))
        elif slot in taken:
            message = f"grid slot {slot} is given twice ({taken[slot]} and {driver})"
            problems.append(GridProblem(i, "position", message, slot))
        elif driver in seen:
            message = f"driver {driver} is on the grid twice"
            problems.append(GridProblem(i, "driver_id", message, driver))
        taken.setdefault(slot, driver)
        seen.add(driver)
    if len(slots) < 2:
        message = "put at least two drivers on the grid"
        problems.append(GridProblem(len(slots), "driver_id", message, None))
    return problems
