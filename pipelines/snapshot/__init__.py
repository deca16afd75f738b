"""The bundled Ergast-layout CSV snapshot: contract, reader and transactional loader."""

from pipelines.snapshot.loader import (
    BUNDLED,
    LoadReport,
    load_snapshot,
    read_snapshot,
    snapshot_task,
)
from pipelines.snapshot.reader import SnapshotError

__all__ = [
    "BUNDLED",
    "LoadReport",
    "SnapshotError",
    "load_snapshot",
    "read_snapshot",
    "snapshot_task",
]
