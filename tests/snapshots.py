"""Copies of the bundled snapshot cut at a given round, for warehouses "as they were"."""

from __future__ import annotations

from pathlib import Path

from pipelines.snapshot import BUNDLED
from replay.tables import cut_before, read_folders, write_folder


def snapshot_until(directory: Path, season: int, round_: int) -> Path:
    """A copy of the bundled CSVs holding only races up to (season, round), and only the
    drivers and teams those races mention, so later ones must be created by the ingest."""
    return write_folder(cut_before(read_folders([BUNDLED]), season, round_ + 1), directory)
