"""Feature builds: compute the view from the warehouse, stage it, publish it once validated.

The whole chain is recomputed every time (ELO is a chain, and the full build takes about a
second); only the races whose rows changed are reported, and `since`/`stages` limit which
published rows are replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from feature_store.build import build_views
from feature_store.frames import load_frames
from feature_store.store import (
    Manifest,
    changed_races,
    publish,
    read_offline,
    stage_build,
    store_root,
)
from feature_store.view import NAME, STAGES, VERSION

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
    stages: tuple[str, ...] = STAGES,
    since: int | None = None,
) -> FeatureBuild:
    """Compute the view and stage it next to the published store (nothing published yet)."""
    root = root or store_root()
    views = build_views(load_frames(engine), stages)
    published = Manifest.read(root) is not None
    full: dict[str, pd.DataFrame] = {}
    changed = {}
    for stage in STAGES:
        old = read_offline(stage, root) if published else None
        if stage not in views:
            if old is not None:
                full[stage] = old
            continue
        new = views[stage]
        if since is not None and old is not None:
            new = pd.concat(
                [old[old["season"] < since], new[new["season"] >= since]], ignore_index=True
            )
        full[stage] = new
        changed[stage] = changed_races(old, new)
    ident, staging = stage_build(full, root)
    log.info(
        "%s build %s staged at %s: %d races changed",
        NAME,
        ident,
        staging,
        len({r for races in changed.values() for r in races}),
    )
    return FeatureBuild(ident, staging, changed)


def publish_build(build: FeatureBuild, root: Path | None = None) -> Manifest:
    """Put a validated build into service."""
    manifest = publish(build.staging, root or store_root())
    log.info("%s build %s published", NAME, manifest.build_id)
    return manifest


def staged_views(build: FeatureBuild) -> dict[str, pd.DataFrame]:
    """The staged frames, for validation."""
    return {
        stage: pd.read_parquet(build.staging / f"{stage}.parquet")
        for stage in STAGES
        if (build.staging / f"{stage}.parquet").exists()
    }


def validate_raw_task() -> list[str]:
    """Gate 1: the warehouse's datasets pass their suites (ValidationFailed otherwise)."""
    from pipelines.validate import require, validate_raw
    from warehouse.db import make_engine

    engine = make_engine()
    try:
        reports = validate_raw(engine)
    finally:
        engine.dispose()
    require(reports)
    return [str(r) for r in reports]


def build_task() -> dict[str, object]:
    """Build and stage (nothing in service changes yet); the build's summary."""
    from warehouse.db import make_engine

    engine = make_engine()
    try:
        return build_features(engine).summary()
    finally:
        engine.dispose()


def validate_features_task(summary: dict[str, object]) -> list[str]:
    """Gate 2: the staged build passes the features suite (ValidationFailed otherwise)."""
    from pipelines.validate import require, validate_features

    build = FeatureBuild(str(summary["build_id"]), Path(str(summary["staging"])))
    reports = validate_features(staged_views(build))
    require(reports)
    return [str(r) for r in reports]


def publish_task(summary: dict[str, object]) -> dict[str, object] | None:
    """Publish the validated build; the `f1/features` extra, or None when nothing changed."""
    build = FeatureBuild(str(summary["build_id"]), Path(str(summary["staging"])))
    before = Manifest.read(store_root())
    manifest = publish_build(build)
    if before is not None and before.build_id == manifest.build_id:
        return None
    return {
        "view": NAME,
        "version": VERSION,
        "build_id": manifest.build_id,
        "races": summary["races"],
    }
