"""Fixtures of the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from feature_store.store import store_root
from pipelines.features import build_features, publish_build
from warehouse.db import make_engine


@pytest.fixture
def published(history_copy: Path) -> Path:
    """The bundled history's features, built and published in a private home."""
    engine = make_engine()
    publish_build(build_features(engine))
    engine.dispose()
    return store_root()
