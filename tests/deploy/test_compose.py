"""The deployment files, checked without a Docker engine: the compose file's services, images,
ports, healthchecks, dependencies and volumes; that every environment variable the code reads
is set for the services that run that code; the image; the monitoring configuration against
the metrics the service really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.settings import BotSettings
from serving.app import create_app
from serving.settings import ServiceSettings
from warehouse.db import make_engine
from warehouse.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ONE_SHOT = {"airflow-init", "minio-buckets"}
AIRFLOW = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}
PACKAGES = ["spec", "warehouse", "pipelines", "serving", "cli", "dags", "feature_store", "models",
            "bot", "plugins", "expectations", "apps", "replay"]  # fmt: skip
READ = re.compile(
    r'validation_alias="([A-Z][A-Z0-9_]+)"|os\.environ(?:\.get)?[\[(]"([A-Z][A-Z0-9_]+)"'
    r'|getenv\("([A-Z][A-Z0-9_]+)"'
)


def variables_read_by_code() -> set[str]:
    """Every environment variable our packages read (settings aliases, os.environ, the BOT_
    prefix of the bot's settings)."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for match in READ.finditer(path.read_text()):
                found.add(next(group for group in match.groups() if group))
    found |= {f"BOT_{name.upper()}" for name in BotSettings.model_fields}
    # read by Airflow/the launcher, not by the service
    return found - {"AIRFLOW_HOME", "F1_ROOT", "AIRFLOW_CONFIG"}


def test_every_service_has_an_image_healthcheck_and_sound_dependencies() -> None:
    assert set(SERVICES) >= {"postgres", "redis", "minio", "mlflow", "service", "prometheus",
                             "grafana", *AIRFLOW}  # fmt: skip
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name
        if name not in ONE_SHOT:
            check = service.get("healthcheck", {}).get("test")
            assert check and check[0] in ("CMD", "CMD-SHELL"), name
            assert service.get("restart") == "unless-stopped", name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert condition == {"condition": wanted}, (name, dependency)


def test_ports_are_the_documented_ones_and_bound_to_localhost() -> None:
    published = {name: list(service.get("ports", [])) for name, service in SERVICES.items()}
    assert published["service"] == ["127.0.0.1:8000:8000"]
    assert published["airflow-apiserver"] == ["127.0.0.1:8080:8080"]
    assert published["mlflow"] == ["127.0.0.1:5000:5000"]
    assert published["grafana"] == ["127.0.0.1:3000:3000"]
    assert published["prometheus"] == ["127.0.0.1:9090:9090"]
    assert all(p.startswith("127.0.0.1:") for ports in published.values() for p in ports)


def test_named_volumes_are_declared_and_mounted_files_exist() -> None:
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
    for secret in COMPOSE.get("secrets", {}).values():
        assert (DOCKER / (secret["file"] + ".example")).exists()


def test_every_variable_the_code_reads_is_set_where_the_code_runs() -> None:
    wanted = variables_read_by_code()
    assert {"F1_DATABASE_URL", "F1_JWT_SECRET", "BOT_LIVE_TRADING", "REDIS_URL"} <= wanted
    for name in {"service", *AIRFLOW, "airflow-init"}:
        missing = wanted - set(SERVICES[name]["environment"])
        assert not missing, (name, sorted(missing))
    assert SERVICES["service"]["environment"]["F1_ENV"] == "production"


def test_env_example_covers_every_variable_and_holds_no_secret() -> None:
    example = dict(
        line.split("=", 1)
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (DOCKER / "compose.yaml").read_text()))
    assert used <= set(example), sorted(used - set(example))
    secretive = [k for k in example if re.search(r"PASSWORD|SECRET|KEY", k)]
    assert secretive and all(example[k] in ("", "change-me") for k in secretive), secretive


def test_the_image_is_multi_stage_non_root_and_installed_from_the_lock() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "uv sync --frozen" in dockerfile and "COPY pyproject.toml uv.lock" in dockerfile
    assert ".venv" in (ROOT / ".dockerignore").read_text()


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The metric families the service really exposes (after one request), on a migrated
    warehouse."""
    url = f"sqlite:///{tmp_path_factory.mktemp('metrics') / 'warehouse.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(ServiceSettings(database_url=url, jwt_secret="t" * 40, load_models=False))
    with TestClient(app) as client:
        client.get("/health")
        text = client.get("/metrics").text
    assert "f1_warehouse_up 1.0" in text
    return {series(line.split()[2]) for line in text.splitlines() if line.startswith("# TYPE")}


def metric_names(expression: str) -> set[str]:
    """The f1_ metric names of a PromQL expression (not label values such as dag="f1_ingest")."""
    return set(re.findall(r"\b(f1_[a-z_]+)", re.sub(r'"[^"]*"', '""', expression)))


def series(name: str) -> str:
    """A sample name's family (f1_x_total → f1_x, f1_x_bucket → f1_x)."""
    return re.sub(r"_(total|bucket|sum|count|created)$", "", name)


def test_alerts_and_dashboard_use_metrics_the_service_exposes(exposed: set[str]) -> None:
    rules = yaml.safe_load((DOCKER / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"]: r["expr"] for g in rules["groups"] for r in g["rules"]}
    assert {
        "PredictionServiceDown",
        "PredictionLatencyP95High",
        "PredictionErrorRateHigh",
        "IngestionFailed",
        "ValidationFailed",
        "WarehouseDataStale",
        "ChampionBelowGridBaseline",
        "FeatureDrift",
        "ChampionWorseThanValidation",
    } <= set(alerts)
    assert 'dag="f1_ingest"' in alerts["IngestionFailed"]
    assert 'task=~"validate.*"' in alerts["ValidationFailed"]
    assert "f1_warehouse_results_overdue_days) > 8" in alerts["WarehouseDataStale"]
    assert ">= 5" in alerts["ChampionBelowGridBaseline"]
    assert (
        "> 0.5" in alerts["PredictionLatencyP95High"]
        and "> 0.05" in alerts["PredictionErrorRateHigh"]
    )
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "f1-service.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    for expression in [*alerts.values(), *expressions]:
        for name in metric_names(expression):
            assert series(name) in exposed, (name, expression)
    scrape = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    targets = [
        t for job in scrape["scrape_configs"] for s in job["static_configs"] for t in s["targets"]
    ]
    assert "service:8000" in targets and scrape["rule_files"] == ["/etc/prometheus/alerts.yml"]
