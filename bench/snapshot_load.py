"""Times the load of the whole bundled history (1950–2024) into a fresh warehouse.

    .venv/bin/python bench/snapshot_load.py [--runs 3] [--postgres URL]

Prints, per backend: the first load into an empty, migrated warehouse (median of --runs) and
the re-load of the same data (which must change 0 rows). Target: first load ≤ 30 s on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pipelines.snapshot import load_snapshot
from spec.settings import normalise_url
from warehouse.db import make_engine
from warehouse.migrate import upgrade


def _one_run(url: str) -> tuple[float, float, int, int]:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    first = load_snapshot(engine)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = load_snapshot(engine)
    again_s = time.perf_counter() - started
    engine.dispose()
    return first_s, again_s, first.total.inserted, again.total.changed


def _sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"


def _postgres_url(base: str) -> tuple[str, str]:
    admin_url = make_url(normalise_url(base))
    name = f"f1_bench_{uuid.uuid4().hex[:10]}"
    with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return admin_url.set(database=name).render_as_string(hide_password=False), name


def _drop(base: str, name: str) -> None:
    admin = create_engine(make_url(normalise_url(base)), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to bench as well")
    args = parser.parse_args()
    header = ("backend", "first load (median)", "re-load", "rows", "changed on re-load")
    print(f"{header[0]:10} {header[1]:>20} {header[2]:>10} {header[3]:>9} {header[4]:>19}")
    with tempfile.TemporaryDirectory() as scratch:
        backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
        for backend, base in backends:
            runs = []
            for _ in range(args.runs):
                if base is None:
                    runs.append(_one_run(_sqlite_url(Path(scratch))))
                else:
                    url, name = _postgres_url(base)
                    try:
                        runs.append(_one_run(url))
                    finally:
                        _drop(base, name)
            first = statistics.median(r[0] for r in runs)
            again = statistics.median(r[1] for r in runs)
            print(f"{backend:10} {first:>19.2f}s {again:>9.2f}s {runs[0][2]:>9,} {runs[0][3]:>19}")


if __name__ == "__main__":
    main()
