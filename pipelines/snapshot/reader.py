"""Reads one CSV file of the snapshot against its contract, naming file:line:field on error."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.snapshot.contract import NULL, FileSpec


class SnapshotError(ValueError):
    """A row of the snapshot breaks the data contract; nothing was written."""

    def __init__(self, file: str, line: int, field: str | None, problem: str) -> None:
        self.file, self.line, self.field, self.problem = file, line, field, problem
        where = f"{file}:{line}" + (f":{field}" if field else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class ParsedFile:
    """The typed rows of one file, their line numbers, and the file's own ids."""

    spec: FileSpec
    rows: list[dict[str, Any]]
    lines: list[int]
    ids: dict[int, int]  # the file's own id -> index of its row


def read_file(directory: Path, spec: FileSpec, known: Mapping[str, ParsedFile]) -> ParsedFile:
    """Parse `spec.file` in `directory`; references must resolve to files in `known`."""
    path = directory / spec.file
    if not path.is_file() and spec.optional:
        return ParsedFile(spec, [], [], {})
    if not path.is_file():
        raise SnapshotError(spec.file, 0, None, f"file not found in {directory}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise SnapshotError(spec.file, 1, None, "file is empty (no header)")
        needed = [f.column for f in spec.fields] + list(spec.key)
        needed += [spec.id_column] if spec.id_column else []
        missing = sorted(set(needed) - set(header))
        if missing:
            raise SnapshotError(spec.file, 1, None, f"header lacks column(s) {', '.join(missing)}")
        index = {name: i for i, name in enumerate(header)}
        return _parse_rows(reader, spec, index, len(header), known)


def _parse_rows(
    reader: Any,
    spec: FileSpec,
    index: dict[str, int],
    width: int,
    known: Mapping[str, ParsedFile],
) -> ParsedFile:
    fields = [(f, index[f.column]) for f in spec.fields]
    key_positions = [index[c] for c in spec.key]
    id_position = index[spec.id_column] if spec.id_column else None
    seen_keys: dict[tuple[str, ...], int] = {}
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    ids: dict[int, int] = {}
    for raw in reader:
        line = reader.line_num
        if not raw:
            continue
        if len(raw) != width:
            raise SnapshotError(spec.file, line, None, f"has {len(raw)} fields, header has {width}")
        row: dict[str, Any] = {}
        for field, position in fields:
            value = raw[position]
            if value == NULL:
                if not field.nullable:
                    raise SnapshotError(spec.file, line, field.column, "is required but null (\\N)")
                row[field.name] = None
                continue
            try:
                row[field.name] = field.parse(value)
            except ValueError as error:
                raise SnapshotError(spec.file, line, field.column, str(error)) from None
            if field.refers and row[field.name] not in known[field.refers].ids:
                raise SnapshotError(
                    spec.file,
                    line,
                    field.column,
                    f"unknown id {value} (not in {field.refers})",
                )
        key = tuple(raw[p] for p in key_positions)
        if key in seen_keys:
            names = ", ".join(f"{c}={v}" for c, v in zip(spec.key, key, strict=True))
            raise SnapshotError(
                spec.file, line, None, f"duplicate key ({names}), first at line {seen_keys[key]}"
            )
        seen_keys[key] = line
        if id_position is not None:
            own_id = _own_id(spec, raw[id_position], line)
            if own_id in ids:
                raise SnapshotError(spec.file, line, spec.id_column, f"duplicate id {own_id}")
            ids[own_id] = len(rows)
        rows.append(row)
        lines.append(line)
    return ParsedFile(spec, rows, lines, ids)


def _own_id(spec: FileSpec, value: str, line: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise SnapshotError(
            spec.file, line, spec.id_column, f"{value!r} is not a whole number"
        ) from None
