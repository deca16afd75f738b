"""The `f1` program end to end on a real SQLite warehouse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from cli.main import app
from pipelines.snapshot import BUNDLED

runner = CliRunner()


@pytest.fixture
def warehouse_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("F1_DATABASE_URL", url)
    return url


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def _status() -> dict:
    result = _invoke("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_upgrade_load_status_downgrade(warehouse_url: str) -> None:
    assert _invoke("db", "upgrade").exit_code == 0
    empty = _status()
    assert empty["last_race"] is None and set(empty["tables"].values()) == {0}

    loaded = _invoke("ingest", "snapshot")
    assert loaded.exit_code == 0, loaded.output
    assert "147,083 rows changed" in loaded.stdout
    status = _status()
    assert status["tables"]["races"] == 1125 and status["tables"]["race_results"] == 26811
    assert status["last_race"] == {"season": 2024, "round": 24, "name": "Abu Dhabi Grand Prix"}

    again = _invoke("ingest", "snapshot", str(BUNDLED))
    assert again.exit_code == 0 and "0 rows changed" in again.stdout

    assert _invoke("db", "downgrade", "base").exit_code == 0
    refused = _invoke("status")
    assert refused.exit_code == 1
    assert "run `f1 db upgrade`" in refused.stderr


def test_a_corrupted_snapshot_exits_non_zero_naming_file_line_field(
    warehouse_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "bad"
    shutil.copytree(BUNDLED, directory)
    lines = (directory / "results.csv").read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace(",3,2,2,2,", ",3,two,2,2,", 1)  # grid of line 3
    (directory / "results.csv").write_text("".join(lines))
    assert _invoke("db", "upgrade").exit_code == 0

    result = _invoke("ingest", "snapshot", str(directory))

    assert result.exit_code == 1
    assert "results.csv:3:grid: 'two' is not a whole number" in result.stderr
    assert "nothing was written" in result.stderr
    assert set(_status()["tables"].values()) == {0}


def _commands(group: TyperGroup | object, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    yield path
    if isinstance(group, TyperGroup):  # typer 0.29 vendors click: TyperGroup is its own class
        for name, command in group.commands.items():
            yield from _commands(command, (*path, name))


@pytest.mark.parametrize(
    "path", list(_commands(get_command(app))), ids=lambda path: " ".join(path) or "f1"
)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = _invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
