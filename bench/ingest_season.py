"""Ingests 2024 from a local Jolpica-compatible server into a 1950–2023 warehouse.

    .venv/bin/python bench/ingest_season.py

Runs with the default client limits (3 requests/s, 450/hour: under Jolpica's 4/s and 500/h),
once clean and once with faults (3×429 with Retry-After 1 s, 2×500, a truncated page, an HTML
page), and prints requests, retries, time waiting on limits, wall time, and whether 2024 then
equals the bundled 2024.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text

from pipelines.ingest.jolpica import JolpicaClient
from pipelines.ingest.live import ingest_season
from pipelines.ingest.settings import IngestSettings
from pipelines.snapshot import BUNDLED, load_snapshot
from replay.ergast import ErgastData, JolpicaApi
from tests.servers.base import Fault, LocalServer
from tests.snapshots import snapshot_until
from warehouse.db import make_engine, transaction
from warehouse.migrate import upgrade


def _season(engine: Engine, season: int) -> list[tuple[object, ...]]:
    with transaction(engine) as session:
        return sorted(
            session.execute(
                text(
                    "SELECT r.round, d.ref, t.ref, rr.position_order, rr.points, rr.status, "
                    "rr.grid "
                    "FROM race_results rr JOIN races r ON r.id = rr.race_id JOIN drivers d ON "
                    "d.id = rr.driver_id JOIN teams t ON t.id = rr.team_id WHERE r.season = :s"
                ),
                {"s": season},
            ).all()
        )


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    data = ErgastData.read(BUNDLED)
    with tempfile.TemporaryDirectory() as scratch:
        reference = make_engine(f"sqlite:///{scratch}/full.db")
        upgrade(reference)
        load_snapshot(reference)
        cut = snapshot_until(Path(scratch) / "cut", 2023, 99)
        columns = ("run", "requests", "retries", "limited", "backoff", "wall")
        print("{:8} {:>8} {:>8} {:>8} {:>8} {:>7}  2024 == bundled".format(*columns))
        for name, faults in (
            ("clean", []),
            (
                "faults",
                [
                    Fault("429"),
                    Fault("429"),
                    Fault("429"),
                    Fault("500", match="results"),
                    Fault("500", match="qualifying"),
                    Fault("truncate", match="results"),
                    Fault("html", match="driverstandings"),
                ],
            ),
        ):
            engine = make_engine(f"sqlite:///{scratch}/{name}.db")
            upgrade(engine)
            load_snapshot(engine, cut)
            with LocalServer(JolpicaApi(data), faults=list(faults)) as server:
                client = JolpicaClient.from_settings(
                    base_url=f"{server.url}/ergast/f1", settings=IngestSettings()
                )
                started = time.perf_counter()
                ingest_season(engine, client, 2024)
                wall = time.perf_counter() - started
            stats = client.http.stats
            same = _season(engine, 2024) == _season(reference, 2024)
            print(
                f"{name:8} {stats.requests:>8} {sum(stats.retries.values()):>8} "
                f"{stats.rate_limited_s:>7.1f}s {stats.backoff_s:>7.1f}s {wall:>6.1f}s  {same}"
            )


if __name__ == "__main__":
    main()
