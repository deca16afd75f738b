"""Where a replay keeps its stores, and the environment its DAG runs see: its own warehouse,
MLflow, feature store and Airflow database, the local F1 API, and no outside service."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# outside services a replay must never reach, and stores it must not share
CLEARED = (
    "F1_ARTIFACTS_URL",
    "F1_ALERT_WEBHOOK_URL",
    "REDIS_URL",
    "AWS_ENDPOINT_URL_S3",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__EXECUTOR",
)


def replay_env(
    home: Path, api_url: str, weather_url: str | None = None, openf1_url: str | None = None
) -> dict[str, str]:
    """The variables every component of a replay reads (set them before Airflow is imported):
    the local F1 API, and the local OpenF1 (practice) and Open-Meteo when given."""
    home = home.resolve()
    airflow = home / "airflow"
    api = f"{api_url.rstrip('/')}/ergast/f1"
    env = {
        "F1_HOME": str(home),
        "F1_ROOT": str(ROOT),
        "F1_DATABASE_URL": f"sqlite:///{home / 'warehouse.db'}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "AIRFLOW_HOME": str(airflow),
        "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_F1_API": json.dumps({"conn_type": "http", "host": api}),
        "F1_API_BASE_URL": api,
        # the local API answers at once: the real service's limits would only slow it down
        "F1_API_RATE_PER_SECOND": "1000",
        "F1_API_RATE_PER_HOUR": "10000000",
        "F1_WEATHER": "true" if weather_url else "false",
        "F1_PRACTICE": "true" if openf1_url else "false",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    if openf1_url:
        env["OPENF1_BASE_URL"] = f"{openf1_url.rstrip('/')}/v1"
        env["OPENF1_RATE_PER_SECOND"] = "1000"
    if weather_url:
        base = weather_url.rstrip("/")
        env["OPEN_METEO_ARCHIVE_URL"] = f"{base}/v1/archive"
        env["OPEN_METEO_FORECAST_URL"] = f"{base}/v1/forecast"
        env["OPEN_METEO_HISTORICAL_FORECAST_URL"] = f"{base}/v1/historical/forecast"
    return env


def enter(env: dict[str, str]) -> None:
    """Make `env` this process's environment for the replay."""
    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ.update(env)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
