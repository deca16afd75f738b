"""`f1 replay`: what it refuses before it starts, and how its report judges each race's
windows (its engine runs a weekend in tests/dags/test_weekend.py; a whole replay runs in
bench/season_replay.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from pipelines.snapshot import BUNDLED
from replay.report import missing, window
from replay.season import Clock, ReplaySeason

runner = CliRunner()


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_a_season_or_rounds_the_data_lacks_are_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    for args, message in (
        (["2031"], "the --data folders hold no race of 2031"),
        (["2024", "--rounds", "20-30"], "rounds 20-30 are not in 2024, which has rounds 1-24"),
        (["2024", "--rounds", "x"], "--rounds 'x' is not a range like 18-24"),
    ):
        done = runner.invoke(
            app, ["replay", *args, "--data", str(BUNDLED), "--home", str(tmp_path)]
        )
        assert done.exit_code == 1, done.output
        assert message in done.output
    empty = tmp_path / "empty"
    empty.mkdir()
    done = runner.invoke(app, ["replay", "2024", "--data", str(empty)])
    assert done.exit_code == 1 and "Ergast CSV layout" in done.output
    assert not (tmp_path / "warehouse.db").exists()


def test_the_season_reveals_each_session_once_published() -> None:
    season = ReplaySeason.load([BUNDLED], 2024, (18, 19))
    assert [w.round for w in season.played] == [18, 19]
    assert season.start == at(2024, 9, 19, 8, 30) and season.end == at(2024, 10, 20, 22)
    clock = Clock(at(2024, 9, 21, 14, 59))
    visible = season.visible(clock)
    assert not visible("qualifying", (2024, 18))  # qualifying started at 13:00
    clock.set(at(2024, 9, 21, 15))
    assert visible("qualifying", (2024, 18)) and not visible("results", (2024, 18))
    clock.set(at(2024, 9, 22, 15))  # the race started at 12:00
    assert visible("results", (2024, 18)) and visible("driverstandings", (2024, 18))
    assert visible("results", (2023, 22)) and not visible("results", (2025, 1))


def test_a_race_without_a_prediction_inside_its_window_is_named() -> None:
    season = ReplaySeason.load([BUNDLED], 2024, (18, 19))
    singapore, austin = season.played
    assert window(austin, singapore, "pre_quali", season.start) == (
        at(2024, 9, 22, 12),  # after the previous race started
        at(2024, 10, 18, 17, 30),  # before the first session
    )
    assert window(austin, singapore, "post_quali", season.start) == (
        at(2024, 10, 19, 22),  # qualifying
        at(2024, 10, 20, 19),  # lights out
    )

    def stage(stored: str | None, inside: bool) -> dict[str, object]:
        found: dict[str, object] = {"window": ["A", "B"], "in_window": inside}
        if stored:
            found["stored_at"] = stored
        return found

    races = [
        {"round": 18, "name": "Singapore Grand Prix",
         "stages": {"pre_quali": stage("x", True), "post_quali": stage("x", True)}},
        {"round": 19, "name": "United States Grand Prix",
         "stages": {"pre_quali": stage(None, False), "post_quali": stage("C", False)}},
    ]  # fmt: skip
    assert missing(races, 2024) == [
        "2024 R19 United States Grand Prix: no pre_quali prediction stored between A and B "
        "(none stored)",
        "2024 R19 United States Grand Prix: no post_quali prediction stored between A and B "
        "(stored at C)",
    ]
