"""Loads the Ergast-layout CSV snapshot into the warehouse: validate everything, then write
everything in one transaction as idempotent upserts by natural key."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipelines.snapshot.contract import ENTITIES, FACTS, FILES, STATUS, FileSpec
from pipelines.snapshot.reader import ParsedFile, read_file
from warehouse.db import transaction
from warehouse.schema import Base
from warehouse.upsert import UpsertCounts, upsert

log = logging.getLogger(__name__)

BUNDLED = Path(__file__).resolve().parents[2] / "data" / "f1"

# stage ("read" counts files, "write" counts rows), done, total
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LoadReport:
    """What one snapshot load did, per table."""

    directory: Path
    tables: dict[str, UpsertCounts] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> UpsertCounts:
        """The counts summed over every table."""
        return sum(self.tables.values(), UpsertCounts())


def read_snapshot(directory: Path, progress: Progress | None = None) -> dict[str, ParsedFile]:
    """Parse and cross-check every file of the snapshot; raises SnapshotError on a bad row."""
    parsed: dict[str, ParsedFile] = {}
    for done, spec in enumerate(FILES, start=1):
        parsed[spec.file] = read_file(directory, spec, parsed)
        if progress:
            progress("read", done, len(FILES))
    return parsed


def load_snapshot(
    engine: Engine, directory: Path = BUNDLED, progress: Progress | None = None
) -> LoadReport:
    """Validate the whole snapshot in `directory`, then upsert it in one transaction."""
    started = time.perf_counter()
    parsed = read_snapshot(directory, progress)
    total_rows = sum(len(parsed[s.file].rows) for s in FILES if s.table)
    written = 0
    tables: dict[str, UpsertCounts] = {}

    def report(spec: FileSpec, counts: UpsertCounts) -> None:
        nonlocal written
        tables[spec.table] = counts
        written += len(parsed[spec.file].rows)
        if progress:
            progress("write", written, total_rows)

    with transaction(engine) as session:
        ids: dict[str, dict[int, Any]] = {
            STATUS.file: {
                i: parsed[STATUS.file].rows[r]["status"] for i, r in parsed[STATUS.file].ids.items()
            }
        }
        for spec in ENTITIES:
            if spec is STATUS:
                continue
            rows = [_resolve(spec, row, ids) for row in parsed[spec.file].rows]
            report(spec, upsert(session, _table(spec), rows, _warehouse_key(spec)))
            ids[spec.file] = _warehouse_ids(session, spec, parsed[spec.file])
        for spec in FACTS:
            rows = [_resolve(spec, row, ids) for row in parsed[spec.file].rows]
            report(spec, upsert(session, _table(spec), rows, _warehouse_key(spec)))
    result = LoadReport(directory, tables, time.perf_counter() - started)
    log.info(
        "snapshot %s loaded in %.1fs: %d inserted, %d updated, %d unchanged",
        directory,
        result.seconds,
        result.total.inserted,
        result.total.updated,
        result.total.unchanged,
    )
    return result


def _table(spec: FileSpec) -> Any:
    return Base.metadata.tables[spec.table]


def _warehouse_key(spec: FileSpec) -> tuple[str, ...]:
    names = {f.column: f.name for f in spec.fields}
    return tuple(names[column] for column in spec.key)


def _resolve(spec: FileSpec, row: dict[str, Any], ids: dict[str, dict[int, Any]]) -> dict[str, Any]:
    """Replace the file's foreign ids by warehouse ids (or, for statuses, by the text)."""
    resolved = dict(row)
    for f in spec.fields:
        if f.refers and row[f.name] is not None:
            resolved[f.name] = ids[f.refers][row[f.name]]
    return resolved


def _warehouse_ids(session: Session, spec: FileSpec, parsed: ParsedFile) -> dict[int, int]:
    """Map the file's own ids to the warehouse ids of the rows just upserted."""
    table = _table(spec)
    key = _warehouse_key(spec)
    by_key = {
        tuple(r[1:]): r[0] for r in session.execute(select(table.c.id, *(table.c[c] for c in key)))
    }
    rows = parsed.rows
    return {own: by_key[tuple(rows[i][c] for c in key)] for own, i in parsed.ids.items()}


def snapshot_task(directory: str | None = None) -> dict[str, Any]:
    """Load a snapshot into the configured warehouse; the summary for the asset event."""
    from warehouse.db import make_engine
    from warehouse.migrate import require_head
    from warehouse.status import warehouse_status

    engine = make_engine()
    try:
        require_head(engine)
        report = load_snapshot(engine, Path(directory) if directory else BUNDLED)
        with transaction(engine) as session:
            last_race = warehouse_status(session)["last_race"]
    finally:
        engine.dispose()
    return {
        "mode": "snapshot",
        "directory": str(report.directory),
        "rows_changed": report.total.changed,
        "last_race": last_race,
    }
