"""Warehouses cut at a given round for the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.snapshot import load_snapshot
from tests.snapshots import snapshot_until


@pytest.fixture
def until_2023(migrated, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A warehouse holding 1950–2023 only."""
    load_snapshot(migrated, snapshot_until(tmp_path / "until-2023", 2023, 99))
    return migrated
