"""Times `f1 db backup` and `f1 db restore` of the whole bundled history (1950–2024) on each
backend: the backup (with its manifest) and the restore into an empty database, which checks
every table's rows against the manifest.

    .venv/bin/python bench/backup.py [--runs 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.snapshot_load import _drop, _postgres_url, _sqlite_url  # noqa: E402
from pipelines.snapshot import load_snapshot  # noqa: E402
from warehouse.backup import backup, restore  # noqa: E402
from warehouse.db import make_engine  # noqa: E402
from warehouse.migrate import upgrade  # noqa: E402

NewDatabase = Callable[[], tuple[str, Callable[[], None]]]  # a URL, and how to drop it


def _backend(name: str, new: NewDatabase, runs: int, scratch: Path) -> None:
    drops: list[Callable[[], None]] = []

    def fresh() -> str:
        url, drop = new()
        drops.append(drop)
        return url

    source = make_engine(fresh())
    try:
        upgrade(source)
        load_snapshot(source)
        backups, restores = [], []
        for run in range(runs):
            dump = scratch / f"{name}-{run}.dump"
            done = backup(source, str(dump))
            backups.append(done.seconds)
            target = make_engine(fresh())
            restores.append(restore(target, str(dump)).seconds)
            target.dispose()
        print(
            f"{name}: {done.manifest.rows:,} rows in {len(done.manifest.tables)} tables, "
            f"{done.manifest.bytes / 1e6:.1f} MB; backup {statistics.median(backups):.2f} s, "
            f"restore with every row checked {statistics.median(restores):.2f} s "
            f"(median of {runs})"
        )
    finally:
        source.dispose()
        for drop in drops:
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server may create databases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        _backend("SQLite", lambda: (_sqlite_url(folder), lambda: None), args.runs, folder)
        if args.postgres:
            base = args.postgres

            def postgres() -> tuple[str, Callable[[], None]]:
                url, database = _postgres_url(base)
                return url, lambda: _drop(base, database)

            _backend("PostgreSQL", postgres, args.runs, folder)


if __name__ == "__main__":
    main()
