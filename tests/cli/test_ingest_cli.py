"""`f1 ingest season|race|qualifying|weather|validate|new` against local servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from pipelines.snapshot import load_snapshot
from tests.servers.base import Fault, LocalServer
from tests.snapshots import snapshot_until
from warehouse.db import make_engine, transaction
from warehouse.migrate import upgrade

runner = CliRunner()


@pytest.fixture
def warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jolpica: LocalServer, meteo: LocalServer
):  # type: ignore[no-untyped-def]
    """A 1950–2023 warehouse, with the CLI pointed at it and at the local servers."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_snapshot(engine, snapshot_until(tmp_path / "cut", 2023, 99))
    for name, value in {
        "F1_DATABASE_URL": url,
        "F1_API_BASE_URL": f"{jolpica.url}/ergast/f1",
        "F1_API_RATE_PER_SECOND": "1000",
        "F1_API_BACKOFF_S": "0.01",
        "OPEN_METEO_ARCHIVE_URL": f"{meteo.url}/v1/archive",
        "OPEN_METEO_FORECAST_URL": f"{meteo.url}/v1/forecast",
    }.items():
        monkeypatch.setenv(name, value)
    yield engine
    engine.dispose()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_season_with_faults_then_race_then_validate(warehouse, jolpica: LocalServer) -> None:
    jolpica.faults = [Fault("429", retry_after="1"), Fault("500"), Fault("truncate")]
    season = _run("ingest", "season", "2024")
    assert season.exit_code == 0, season.output
    assert "64 requests, retries: 1 429, 1 500, 1 bad json" in season.stdout
    assert "rounds written 1, 2, 3" in season.stdout

    again = _run("ingest", "race", "2024", "--round", "24")
    assert again.exit_code == 0 and "0 rows changed" in again.stdout
    # no sprint that weekend (the schedule says so), and one page of laps (none on this server)
    assert "6 requests" in again.stdout

    valid = _run("ingest", "validate", "2024")
    assert valid.exit_code == 0 and "season 2024 matches the API" in valid.stdout


def test_validate_shows_a_readable_diff(warehouse) -> None:
    assert _run("ingest", "season", "2024").exit_code == 0
    with transaction(warehouse) as session:
        session.execute(
            text(
                "UPDATE race_results SET position = 2, position_text = '2' WHERE position = 1 AND "
                "race_id = (SELECT id FROM races WHERE season = 2024 AND round = 7)"
            )
        )
        session.execute(
            text(
                "DELETE FROM race_results WHERE position_order = 20 AND "
                "race_id = (SELECT id FROM races WHERE season = 2024 AND round = 9)"
            )
        )
    result = _run("ingest", "validate", "2024")
    assert result.exit_code == 1
    assert "round 7: winner ['max_verstappen'] in the API, [] in the warehouse" in result.stdout
    assert "round 9: 20 results in the API, 19 in the warehouse" in result.stdout


def test_a_failing_api_exits_non_zero_naming_the_endpoint(warehouse, jolpica) -> None:
    jolpica.faults = [Fault("500") for _ in range(6)]
    result = _run("ingest", "qualifying", "2024")
    assert result.exit_code == 1
    assert "GET http://127.0.0.1:" in result.stderr and "/ergast/f1/2024/qualifying.json" in (
        result.stderr
    )
    assert "500: server error (gave up after 6 attempts)" in result.stderr
    with transaction(warehouse) as session:
        assert session.scalar(text("SELECT count(*) FROM races WHERE season = 2024")) == 0


def test_new_and_weather(warehouse) -> None:
    new = _run("ingest", "new", "--as-of", "2024-12-20")
    assert new.exit_code == 0, new.output
    assert "rounds written 1, 2, 3, 4, 5" in new.stdout
    weather = _run("ingest", "weather", "2024", "--as-of", "2025-01-15")
    assert weather.exit_code == 0, weather.output
    assert "24 races asked" in weather.stdout and "Open-Meteo: 24 requests" in weather.stdout
    with transaction(warehouse) as session:
        assert session.scalar(text("SELECT count(*) FROM weather")) == 24
