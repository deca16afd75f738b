"""Times feature builds on the bundled history (SQLite).

    .venv/bin/python bench/features.py

- full: both stages for 1950–2024 from an empty store (read, compute, stage, publish);
- update: the incremental path after one new race, as f1_features runs it after an ingest: the
  season's calendar is known, 2024 R24's results arrive, and only the rows from R24 on are
  rebuilt (staged and published) — then validated: the raw suites on the 2024 season and the
  features suite on the changed rows;
- validation of a full build: the features suite over both stages (reported apart).
Targets: full ≤ 10 s, incremental build ≤ 2 s.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path

from pipelines.features import build_features, publish_build, staged_views
from pipelines.snapshot import BUNDLED, load_snapshot
from pipelines.validate import validate_features, validate_raw
from replay.tables import cut_before, read_folders, write_folder
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
        everything = read_folders([BUNDLED])
        before = cut_before(everything, 2024, 24)
        before["races.csv"] = everything["races.csv"]  # the calendar is known in advance
        load_snapshot(engine, write_folder(before, root / "cut"))

        def full() -> None:
            store = root / "store-full"
            publish_build(build_features(engine, store), store)

        full_s = _timed(full)
        store = root / "store"
        publish_build(build_features(engine, store), store)
        load_snapshot(engine, BUNDLED)  # round 24's results arrive
        validate_raw(engine, seasons=[2024], out_dir=root / "warm")  # Great Expectations loaded
        started = time.perf_counter()
        update = build_features(engine, store, after=(2024, 24))
        update_s = time.perf_counter() - started
        started = time.perf_counter()
        validate_raw(engine, seasons=[2024], out_dir=root / "validation")
        changed = {
            stage: frame[(frame["season"] == 2024) & (frame["round"] == 24)]
            for stage, frame in staged_views(update).items()
        }
        validate_features(changed, out_dir=root / "validation")
        incremental_validation_s = time.perf_counter() - started
        started = time.perf_counter()
        publish_build(update, store)
        update_s += time.perf_counter() - started
        started = time.perf_counter()
        staged = staged_views(build_features(engine, store))
        validate_features(staged, out_dir=root / "validation")
        validation_s = time.perf_counter() - started
    print(f"full build, both stages, 1950–2024 (median of 3): {full_s:.2f} s  (target ≤ 10 s)")
    print(f"incremental build after one new race (2024 R24): {update_s:.2f} s  (target ≤ 2 s)")
    print(f"  races the update changed:                       {update.races}")
    print(
        f"incremental validation (2024 raw suites + R24's rows): {incremental_validation_s:.2f} s"
    )
    print(f"full build + Great Expectations features suite: {validation_s:.2f} s")


if __name__ == "__main__":
    main()
