"""Copies of the bundled snapshot cut at a given round, for warehouses "as they were"."""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.snapshot import BUNDLED


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
