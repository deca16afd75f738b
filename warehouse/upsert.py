"""Idempotent upserts by natural key that say exactly what they changed.

Existing rows in scope are read once and compared in memory, so a re-run of the same data
issues no UPDATE at all and the counts are exact on every backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, select, update
from sqlalchemy.orm import Session

_BATCH = 5000


@dataclass(frozen=True)
class UpsertCounts:
    """Rows inserted, updated and left unchanged by one upsert."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        """Rows written (inserted or updated)."""
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def upsert(
    session: Session,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    key: Sequence[str],
    scope: ColumnElement[bool] | None = None,
    stamp: Mapping[str, Any] | None = None,
) -> UpsertCounts:
    """Insert rows whose `key` is new and update rows whose other values differ.

    `scope` limits the rows read for comparison (e.g. one race); rows outside it must not
    share a key with the incoming ones. `stamp` (e.g. a fetch time) is written with every
    insert and update but never compared, so it alone does not make a row change.
    Nothing is deleted.
    """
    incoming = list(rows)
    if not incoming:
        return UpsertCounts()
    columns = list(incoming[0].keys())
    value_columns = [c for c in columns if c not in key]
    query = select(table.c.id, *(table.c[c] for c in columns))
    if scope is not None:
        query = query.where(scope)
    existing = {
        tuple(_plain(row[c]) for c in key): row for row in session.execute(query).mappings()
    }
    inserts: list[Mapping[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row in incoming:
        current = existing.get(tuple(_plain(row[c]) for c in key))
        if current is None:
            inserts.append(row)
        elif any(_plain(current[c]) != _plain(row[c]) for c in value_columns):
            updates.append({"_id": current["id"], **{c: row[c] for c in value_columns}})
    if stamp:
        inserts = [{**row, **stamp} for row in inserts]
        updates = [{**row, **stamp} for row in updates]
        value_columns += list(stamp)
    for start in range(0, len(inserts), _BATCH):
        session.execute(table.insert(), inserts[start : start + _BATCH])
    if updates:
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in value_columns})
        )
        session.connection().execute(statement, updates)
    return UpsertCounts(len(inserts), len(updates), len(incoming) - len(inserts) - len(updates))


def _plain(value: Any) -> Any:
    """A value as compared: an aware datetime as naive UTC (SQLite reads timestamps back
    without their zone, PostgreSQL with it)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
