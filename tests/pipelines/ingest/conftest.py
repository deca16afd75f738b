"""Local F1 API and Open-Meteo servers, fast clients, and warehouses cut at a given round."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.ingest.http import JsonClient, RateLimiter, RetryPolicy
from pipelines.ingest.jolpica import JolpicaClient
from pipelines.snapshot import BUNDLED, load_snapshot
from tests.servers.base import LocalServer
from tests.servers.jolpica import ErgastData, JolpicaApi
from tests.servers.open_meteo import OpenMeteoApi

FAST = RetryPolicy(attempts=6, backoff_s=0.01, max_backoff_s=0.05)


@pytest.fixture(scope="session")
def ergast() -> ErgastData:
    """The bundled history as Ergast JSON objects."""
    return ErgastData(BUNDLED)


@pytest.fixture
def jolpica(ergast: ErgastData) -> Iterator[LocalServer]:
    """A Jolpica-compatible API on 127.0.0.1."""
    with LocalServer(JolpicaApi(ergast)) as server:
        yield server


@pytest.fixture
def meteo() -> Iterator[LocalServer]:
    """An Open-Meteo archive/forecast API on 127.0.0.1."""
    with LocalServer(OpenMeteoApi()) as server:
        yield server


def make_client(server: LocalServer, timeout_s: float = 5.0) -> JolpicaClient:
    """A client of `server` without the real service's rate limit (tests count requests)."""
    http = JsonClient(
        f"{server.url}/ergast/f1", limiter=RateLimiter(1000), policy=FAST, timeout_s=timeout_s
    )
    return JolpicaClient(http)


@pytest.fixture
def client(jolpica: LocalServer) -> Iterator[JolpicaClient]:
    c = make_client(jolpica)
    yield c
    c.http.close()


def snapshot_until(directory: Path, season: int, round_: int) -> Path:
    """A copy of the bundled CSVs holding only races up to (season, round), and only the
    drivers and teams those races mention, so later ones must be created by the ingest."""
    directory.mkdir(parents=True, exist_ok=True)

    def rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
        with (BUNDLED / name).open(newline="") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), list(reader)

    def write(name: str, header: list[str], kept: list[dict[str, str]]) -> None:
        with (directory / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(kept)

    header, races = rows("races.csv")
    races = [r for r in races if (int(r["year"]), int(r["round"])) <= (season, round_)]
    write("races.csv", header, races)
    race_ids = {r["raceId"] for r in races}
    drivers, teams = set(), set()
    for name in (
        "results.csv",
        "sprint_results.csv",
        "qualifying.csv",
        "driver_standings.csv",
        "constructor_standings.csv",
        "pit_stops.csv",
    ):
        header, kept = rows(name)
        kept = [r for r in kept if r["raceId"] in race_ids]
        drivers |= {r["driverId"] for r in kept if "driverId" in r}
        teams |= {r["constructorId"] for r in kept if "constructorId" in r}
        write(name, header, kept)
    for name, column, keep in (
        ("drivers.csv", "driverId", drivers),
        ("constructors.csv", "constructorId", teams),
    ):
        header, kept = rows(name)
        write(name, header, [r for r in kept if r[column] in keep])
    for name in ("circuits.csv", "status.csv"):
        header, kept = rows(name)
        write(name, header, kept)
    return directory


@pytest.fixture
def until_2023(migrated, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A warehouse holding 1950–2023 only."""
    load_snapshot(migrated, snapshot_until(tmp_path / "until-2023", 2023, 99))
    return migrated
