"""Ergast-layout CSV folders read as tables: several folders merged (a later folder adds rows
and overrides rows with the same id), and a merged history cut at a race for a warehouse
"as it was" before it."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

Row = dict[str, str]
FILES = (
    "circuits.csv",
    "constructors.csv",
    "drivers.csv",
    "status.csv",
    "seasons.csv",
    "races.csv",
    "results.csv",
    "sprint_results.csv",
    "qualifying.csv",
    "driver_standings.csv",
    "constructor_standings.csv",
    "pit_stops.csv",
    "lap_times.csv",
    "practice_results.csv",
    "team_lineage.csv",
)
RACE_FILES = FILES[6:-1]  # rows that belong to one race (by raceId), races.csv aside
KEYS = {  # others: their first column
    "pit_stops.csv": ("raceId", "driverId", "stop"),
    "lap_times.csv": ("raceId", "driverId", "lap"),
    "team_lineage.csv": ("constructorRef", "fromSeason"),
}


@dataclass
class Table:
    """One CSV file: its header and rows."""

    header: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def read_folders(folders: list[Path]) -> dict[str, Table]:
    """Every known file of the folders, merged in order: a row whose id (first column; a pit
    stop by race, driver and stop, a lap by race, driver and lap) is already known replaces it,
    others are added."""
    tables: dict[str, Table] = {}
    for name in FILES:
        header: list[str] = []
        merged: dict[tuple[str, ...], Row] = {}
        for folder in folders:
            path = folder / name
            if not path.exists():
                continue
            with path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                fields = list(reader.fieldnames or [])
                header += [f for f in fields if f not in header]
                key = KEYS.get(name, tuple(fields[:1]))
                for row in reader:
                    merged[tuple(row[k] for k in key)] = row
        if header:
            tables[name] = Table(header, list(merged.values()))
    missing = [n for n in ("races.csv", "drivers.csv", "circuits.csv") if n not in tables]
    if missing:
        raise FileNotFoundError(
            f"no {', '.join(missing)} in {', '.join(str(f) for f in folders)}: "
            "--data takes folders in the Ergast CSV layout (like data/f1)"
        )
    return tables


def cut_before(tables: dict[str, Table], season: int, round_: int) -> dict[str, Table]:
    """The races before (season, round) with everything measured at them, and only the
    drivers and teams they mention (later ones must be created by ingestion)."""
    races = tables["races.csv"]
    kept_races = [r for r in races.rows if (int(r["year"]), int(r["round"])) < (season, round_)]
    race_ids = {r["raceId"] for r in kept_races}
    out = {"races.csv": Table(races.header, kept_races)}
    drivers: set[str] = set()
    teams: set[str] = set()
    for name in RACE_FILES:
        if name not in tables:
            continue
        kept = [r for r in tables[name].rows if r["raceId"] in race_ids]
        drivers |= {r["driverId"] for r in kept if "driverId" in r}
        teams |= {r["constructorId"] for r in kept if "constructorId" in r}
        out[name] = Table(tables[name].header, kept)
    for name, column, keep in (
        ("drivers.csv", "driverId", drivers),
        ("constructors.csv", "constructorId", teams),
    ):
        out[name] = Table(tables[name].header, [r for r in tables[name].rows if r[column] in keep])
    # declared renames name teams by ref and may come before the team: all of them stay
    for name in ("circuits.csv", "status.csv", "seasons.csv", "team_lineage.csv"):
        if name in tables:
            out[name] = tables[name]
    return out


def write_folder(tables: dict[str, Table], folder: Path) -> Path:
    """Write the tables as an Ergast-layout folder (for the snapshot loader)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        with (folder / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, table.header, lineterminator="\n", restval="\\N")
            writer.writeheader()
            writer.writerows(table.rows)
    return folder
