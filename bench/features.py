"""Times feature builds on the bundled history (SQLite).

    .venv/bin/python bench/features.py

- full: both stages for 1950–2024 from an empty store (read, compute, stage, publish);
- update: the same after one new race (2024 round 24 added to a store built through round 23);
- validation: the Great Expectations features suite over both stages (reported apart).
Targets: full ≤ 10 s, update ≤ 2 s.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path

from pipelines.features import build_features, publish_build, staged_views
from pipelines.snapshot import BUNDLED, load_snapshot
from pipelines.validate import validate_features
from tests.snapshots import snapshot_until
from warehouse.db import make_engine
from warehouse.migrate import upgrade


def _timed(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        engine = make_engine(f"sqlite:///{root / 'w.db'}")
        upgrade(engine)
        load_snapshot(engine, snapshot_until(root / "cut", 2024, 23))

        def full() -> None:
            store = root / "store-full"
            publish_build(build_features(engine, store), store)

        full_s = _timed(full)
        store = root / "store"
        publish_build(build_features(engine, store), store)
        load_snapshot(engine, BUNDLED)  # round 24 arrives
        started = time.perf_counter()
        update = build_features(engine, store)
        publish_build(update, store)
        update_s = time.perf_counter() - started
        started = time.perf_counter()
        staged = staged_views(build_features(engine, store))
        validate_features(staged, out_dir=root / "validation")
        validation_s = time.perf_counter() - started
    print(f"full build, both stages, 1950–2024 (median of 3): {full_s:.2f} s  (target ≤ 10 s)")
    print(f"update after one new race (2024 R24):           {update_s:.2f} s  (target ≤ 2 s)")
    print(
        f"  races the update reports changed:             {len(update.races)} (the cut had "
        "no R24 in its calendar, so races_left moved for all of 2024)"
    )
    print(f"build + Great Expectations features suite:      {validation_s:.2f} s")


if __name__ == "__main__":
    main()
