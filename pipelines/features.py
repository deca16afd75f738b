"""Feature builds: compute the view from the warehouse, stage it, publish it once validated.

A full build computes every race's rows. The incremental path (after an ingest, which says
which races it wrote) computes only the rows of races from the earliest one written on, and
keeps the published rows before it: a feature of a race only ever reads earlier races, so
the rows before are unchanged by construction (the histories are still read whole: ELO is a
chain). Validation then runs on the changed races' rows only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.build import build_views, knows_race, race_entrants, upcoming_lineup
from feature_store.frames import Frames, load_frames
from feature_store.store import (
    Manifest,
    changed_races,
    publish,
    pull,
    read_offline,
    stage_build,
    staged,
    store_root,
)
from feature_store.view import NAME, VERSION
from spec import STAGES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureBuild:
    """A staged build: its id, where it waits, and the races it changes per stage."""

    build_id: str
    staging: Path
    changed: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    @property
    def races(self) -> list[tuple[int, int]]:
        """Races changed in any stage."""
        return sorted({race for races in self.changed.values() for race in races})

    def summary(self) -> dict[str, object]:
        """The asset event's extra: view version, build id, races changed."""
        return {
            "view": NAME,
            "version": VERSION,
            "build_id": self.build_id,
            "races": [list(r) for r in self.races],
            "staging": str(self.staging),
        }


def build_features(
    engine: Engine | Connection,
    root: Path | None = None,
    stages: tuple[str, ...] | None = None,
    since: int | None = None,
    after: tuple[int, int] | None = None,
) -> FeatureBuild:
    """Compute the view and stage it next to the published store (nothing published yet).
    With `after` (season, round) and a published store, only the rows of that race and later
    ones are computed (the incremental path)."""
    root = root or store_root()
    stages = stages or STAGES.names
    frames = load_frames(engine)
    manifest = pull(root)  # the shared build first (F1_ARTIFACTS_URL on S3)
    held = set(manifest.stages) if manifest is not None else set()
    published = manifest is not None
    # a stage the published build lacks (declared since) is built whole, so every stage is
    incremental = after is not None and published and held.issuperset(stages)
    entrants = _entrants_from(frames, after) if incremental and after else None
    lineup = upcoming_lineup(frames)  # the next race's entrants before its qualifying
    if lineup is not None and incremental and after is not None:
        race = frames.races[frames.races["race_id"] == lineup["race_id"].iloc[0]]
        if _before(race, after).any():
            lineup = None  # before the rebuilt races: the published rows stay
    if lineup is not None:
        entrants = pd.concat(
            [race_entrants(frames) if entrants is None else entrants, lineup], ignore_index=True
        )
    if entrants is not None and entrants.empty:
        views: dict[str, pd.DataFrame] = {}  # no race from `after` on has entrants yet
    else:
        views = build_views(frames, stages, entrants=entrants)
    if lineup is not None:  # a stage whose evidence the race lacks yet has no rows of it
        upcoming = int(lineup["race_id"].iloc[0])
        views = {
            stage: rows
            if knows_race(frames, stage, upcoming)
            else rows[rows["race_id"] != upcoming]
            for stage, rows in views.items()
        }
    full: dict[str, pd.DataFrame] = {}
    changed = {}
    for stage in STAGES.names:
        old = read_offline(stage, root) if stage in held else None
        if stage not in stages:
            if old is not None:
                full[stage] = old
            continue
        new = views.get(stage)
        if incremental and after is not None and old is not None:
            before = _before(old, after)
            new = old[before] if new is None else pd.concat([old[before], new], ignore_index=True)
        elif since is not None and old is not None and new is not None:
            new = pd.concat(
                [old[old["season"] < since], new[new["season"] >= since]], ignore_index=True
            )
        if new is None:
            continue
        full[stage] = new
        changed[stage] = changed_races(old, new)
    ident, staging = stage_build(full, root)
    log.info(
        "%s build %s staged at %s (%s): %d races changed",
        NAME,
        ident,
        staging,
        f"from {after[0]} R{after[1]}" if incremental and after else "full",
        len({r for races in changed.values() for r in races}),
    )
    return FeatureBuild(ident, staging, changed)


def _before(rows: pd.DataFrame, race: tuple[int, int]) -> pd.Series:
    """Rows of races before (season, round)."""
    season, round_ = race
    return (rows["season"] < season) | ((rows["season"] == season) & (rows["round"] < round_))


def _entrants_from(frames: Frames, race: tuple[int, int]) -> pd.DataFrame:
    """The entrants of (season, round) and every later race."""
    later = frames.races[~_before(frames.races, race)]
    return race_entrants(frames, later["race_id"].astype(int).tolist())


def warehouse_changes(extras: list[dict[str, object]]) -> list[dict[str, object]]:
    """What the `f1/warehouse` events a run was triggered by (their extras) changed, as
    `{"season", "rounds"}` to rebuild from; empty, for a full build, when there are none or
    one of them names no seasons (a snapshot load). Rows written outside a round (the
    schedule: `races_left` counts its rounds; weather) count from the season's first round."""
    changes: list[dict[str, object]] = []
    for extra in extras:
        written = extra.get("changes")
        if not isinstance(written, list):
            return []
        for change in written:
            if change.get("rounds"):
                changes.append({"season": change["season"], "rounds": change["rounds"]})
            elif change.get("rows_changed"):
                changes.append({"season": change["season"], "rounds": [1]})
        changes += [{"season": s, "rounds": [1]} for s in extra.get("weather_seasons") or []]  # type: ignore[attr-defined]
    return changes


def earliest_change(changes: list[dict[str, object]]) -> tuple[int, int] | None:
    """The earliest (season, round) an `f1/warehouse` event's `changes` wrote, or None when
    they name no round (a snapshot load, a schedule): then everything is rebuilt."""
    races = [
        (int(c["season"]), int(r))  # type: ignore[call-overload]
        for c in changes
        for r in c.get("rounds") or []  # type: ignore[attr-defined]
    ]
    return min(races) if races else None


def publish_build(build: FeatureBuild, root: Path | None = None) -> Manifest:
    """Put a validated build into service."""
    manifest = publish(build.staging, root or store_root())
    log.info("%s build %s published", NAME, manifest.build_id)
    return manifest


def staged_views(build: FeatureBuild) -> dict[str, pd.DataFrame]:
    """The staged frames, for validation."""
    return {
        stage: pd.read_parquet(build.staging / f"{stage}.parquet")
        for stage in STAGES.names
        if (build.staging / f"{stage}.parquet").exists()
    }


def validate_raw_task(changes: list[dict[str, object]] | None = None) -> list[str]:
    """Gate 1: the warehouse's datasets pass their suites (ValidationFailed otherwise): the
    seasons an ingest wrote, or every season when it names none."""
    from pipelines.validate import require, validate_raw
    from warehouse.db import make_engine

    seasons = sorted({int(c["season"]) for c in changes or []})  # type: ignore[call-overload]
    engine = make_engine()
    try:
        reports = validate_raw(engine, seasons=seasons or None)
    finally:
        engine.dispose()
    require(reports)
    return [str(r) for r in reports]


def build_task(changes: list[dict[str, object]] | None = None) -> dict[str, object]:
    """Build and stage (nothing in service changes yet): incrementally from the earliest race
    an ingest wrote, else in full; the build's summary."""
    from warehouse.db import make_engine

    engine = make_engine()
    try:
        return build_features(engine, after=earliest_change(changes or [])).summary()
    finally:
        engine.dispose()


def validate_features_task(summary: dict[str, object]) -> list[str]:
    """Gate 2: the changed races' rows of the staged build pass the features suite
    (ValidationFailed otherwise)."""
    from pipelines.validate import require, validate_features

    build = _staged(summary)
    races = {(int(s), int(r)) for s, r in summary["races"]}  # type: ignore[attr-defined]
    if not races:
        return []
    views = {
        stage: frame[
            [(s, r) in races for s, r in zip(frame["season"], frame["round"], strict=True)]
        ]
        for stage, frame in staged_views(build).items()
    }
    reports = validate_features(views)
    require(reports)
    return [str(r) for r in reports]


def _staged(summary: dict[str, object]) -> FeatureBuild:
    """The build a summary names, fetched when it was staged on another machine."""
    ident = str(summary["build_id"])
    return FeatureBuild(ident, staged(ident, Path(str(summary["staging"]))))


def publish_task(summary: dict[str, object]) -> dict[str, object]:
    """Publish the validated build; the `f1/features` extra (`races` empty when no row
    changed: the features are current with the warehouse either way)."""
    build = _staged(summary)
    before = pull()
    manifest = publish_build(build)
    changed = before is None or before.build_id != manifest.build_id
    return {
        "view": NAME,
        "version": VERSION,
        "build_id": manifest.build_id,
        "races": summary["races"] if changed else [],
    }
