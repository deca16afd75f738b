"""`f1 validate` and `f1 features build|show|describe` on a real SQLite warehouse."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_validate_passes_then_fails_naming_the_expectation(history_copy: Path, tmp_path) -> None:
    ok = _run("validate", "--dataset", "results", "--season", "2023")
    assert ok.exit_code == 0, ok.output
    assert "results: passed (10/10 expectations, 440 rows)" in ok.stdout
    assert (
        f"data docs: {tmp_path / 'home' / 'validation' / 'data_docs' / 'index.html'}" in ok.stdout
    )

    with sqlite3.connect(history_copy) as connection:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute(
            "UPDATE race_results SET grid = -5 WHERE race_id = (SELECT id FROM "
            "races WHERE season = 2023 AND round = 2) AND position = 3"
        )
    bad = _run("validate", "--dataset", "results", "--season", "2023")
    assert bad.exit_code == 1
    assert "'grid not negative' failed on 1 rows, e.g. ['2023 R2 · " in bad.stdout
    assert "validation failed: results" in bad.stderr
    unknown = _run("validate", "--dataset", "laps")
    assert unknown.exit_code == 1 and "unknown dataset 'laps'" in unknown.stderr


def test_features_build_show_describe(history_copy: Path) -> None:
    built = _run("features", "build")
    assert built.exit_code == 0, built.output
    assert "published race_entry_features_v1 build " in built.stdout
    assert "post_quali: 28,156 rows, 1,125 races, [1950, 1] … [2024, 24]" in built.stdout
    again = _run("features", "build", "--stage", "pre_quali", "--since", "2024", "--no-validate")
    assert again.exit_code == 0 and "0 races changed" in again.stdout

    shown = _run("features", "show", "2024", "24", "--stage", "post_quali", "--json")
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert len(rows) == 20 and rows[0]["driver_ref"] == "norris" and rows[0]["grid"] == 1
    missing = _run("features", "show", "2031", "1")
    assert missing.exit_code == 1 and "not in the warehouse" in missing.stderr

    described = _run("features", "describe")
    assert described.exit_code == 0
    assert "race_entry_features_v1" in described.stdout and "ELO" in described.stdout
