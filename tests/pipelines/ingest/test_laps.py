"""Lap times: fetched with a new round (paged by timings, as the API counts them), loaded from
an Ergast snapshot's lap_times.csv, and turned into race pace as of the races before."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from feature_store.build import build_views
from feature_store.frames import load_frames
from pipelines.ingest.live import ingest_round
from pipelines.snapshot import BUNDLED, load_snapshot
from replay.ergast import ErgastData, JolpicaApi
from tests.servers.base import LocalServer
from tests.servers.fixtures import make_client

LAPS = 13


def _lap_file(folder: Path, races: dict[int, float]) -> Path:
    """lap_times.csv for the given raceIds: every finisher of the race, LAPS laps each, the
    k-th finisher's laps 0.5·k % slower than the winner's 90 s (lap 1 a slow 120 s)."""
    results = pd.read_csv(BUNDLED / "results.csv", na_values="\\N")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lap_times.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["raceId", "driverId", "lap", "position", "time", "milliseconds"])
        for race, base in races.items():
            field = results[results["raceId"] == race].sort_values("positionOrder")
            for k, driver in enumerate(field["driverId"]):
                for lap in range(1, LAPS + 1):
                    ms = 120_000 if lap == 1 else round(base * 1000 * (1 + 0.005 * k))
                    clock = f"{ms // 60000}:{ms % 60000 / 1000:06.3f}"
                    out.writerow([race, driver, lap, k + 1, clock, ms])
    return path


def _race_ids(season: int, rounds: list[int]) -> list[int]:
    races = pd.read_csv(BUNDLED / "races.csv")
    chosen = races[(races["year"] == season) & races["round"].isin(rounds)]
    return [int(r) for r in chosen.sort_values("round")["raceId"]]


def test_a_new_round_brings_its_laps_in_pages_of_timings(history: Engine, tmp_path: Path) -> None:
    (r24,) = _race_ids(2024, [24])
    _lap_file(tmp_path / "laps", {r24: 90.0})
    data = ErgastData.read(BUNDLED, tmp_path / "laps")
    timings = len(data.rows["laps"][(2024, 24)])
    assert timings == 20 * LAPS
    with LocalServer(JolpicaApi(data)) as server:
        client = make_client(server)
        try:
            report = ingest_round(history, client, 2024, 24)
            # schedule, results, qualifying, 2 standings, and ⌈260 / 100⌉ = 3 pages of laps
            assert client.http.stats.requests == 5 + math.ceil(timings / 100) == 8
            assert report.rounds == [24] and report.changed == timings
            with history.connect() as connection:
                stored = connection.execute(
                    text(
                        "SELECT d.ref, l.lap, l.position, l.milliseconds FROM lap_times l "
                        "JOIN drivers d ON d.id = l.driver_id WHERE l.race_id = "
                        "(SELECT id FROM races WHERE season = 2024 AND round = 24) "
                        "ORDER BY l.position, l.lap"
                    )
                ).all()
            assert len(stored) == timings
            assert stored[0] == ("norris", 1, 1, 120_000)  # the winner's first lap
            assert stored[LAPS + 1][1:] == (2, 2, 90_450)  # second finisher, lap 2: +0.5 %
            again = ingest_round(history, make_client(server), 2024, 24)
            assert again.changed == 0
        finally:
            with history.begin() as connection:
                connection.execute(text("DELETE FROM lap_times"))


def test_snapshot_lap_times_become_race_pace_as_of_the_races_before(
    migrated: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "snapshot"
    shutil.copytree(BUNDLED, folder)
    r21, r22, r23 = _race_ids(2024, [21, 22, 23])
    _lap_file(folder, {r21: 80.0, r22: 95.0, r23: 100.0})
    load_snapshot(migrated, folder)
    with migrated.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM lap_times")) == 3 * 20 * LAPS
    rows = build_views(load_frames(migrated))["pre_quali"]
    season = rows[rows["season"] == 2024]
    results = pd.read_csv(BUNDLED / "results.csv")
    # R24: the mean of R21–R23 paces; in each race the k-th finisher is 0.5·k % off the winner
    r24 = season[season["round"] == 24].set_index("driver_ref")["race_pace3"]
    drivers = pd.read_csv(BUNDLED / "drivers.csv").set_index("driverId")["driverRef"]
    order = {
        race: {
            drivers[d]: k
            for k, d in enumerate(
                results[results["raceId"] == race].sort_values("positionOrder")["driverId"]
            )
        }
        for race in (r21, r22, r23)
    }
    for driver in ("norris", "max_verstappen", "hulkenberg"):
        expected = sum(0.5 * order[race][driver] for race in (r21, r22, r23)) / 3
        assert r24[driver] == pytest.approx(expected, abs=1e-9)
    # as of: R23's own laps are not in R23's race pace (only R21 and R22 are)
    r23_pace = season[season["round"] == 23].set_index("driver_ref")["race_pace3"]
    expected = sum(0.5 * order[race]["norris"] for race in (r21, r22)) / 2
    assert r23_pace["norris"] == pytest.approx(expected, abs=1e-9)
    assert season[season["round"] <= 21]["race_pace3"].isna().all()
