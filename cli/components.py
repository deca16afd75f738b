"""The platform's processes as `f1 up` runs them on one machine (and `cli/distributed.py`
on many): each component's command, port, health check and UI, and the environment they all
run with (secrets generated once into $F1_HOME)."""

from __future__ import annotations

import functools
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Component:
    """A process of the platform and what says it is healthy: its health URL answering 200,
    or `probe` (a process without an HTTP port of its own, e.g. a Celery worker)."""

    name: str
    command: list[str]
    port: int | None
    health: str
    ui: str = ""
    probe: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)  # on top of the platform's

    def healthy(self) -> bool:
        if self.probe is not None:
            return self.probe()
        try:
            return httpx.get(self.health, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def platform_env(home: Path) -> dict[str, str]:
    """The environment every component runs with (secrets from env, else F1_HOME)."""
    env = dict(os.environ)
    env.update(
        F1_HOME=str(home),
        F1_ROOT=str(ROOT),
        AIRFLOW_HOME=env.get("AIRFLOW_HOME", str(home / "airflow")),
        AIRFLOW_CONFIG=env.get("AIRFLOW_CONFIG", str(ROOT / "airflow.cfg")),
        MLFLOW_TRACKING_URI=env.get("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    # the API server on the loopback as the other components (Airflow's default: 0.0.0.0);
    # tasks reach the execution API through base_url, so it follows the host and port
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    port = env.get("AIRFLOW__API__PORT", "8080")
    env.setdefault("AIRFLOW__API__BASE_URL", f"http://{env['AIRFLOW__API__HOST']}:{port}/")
    for name, value in _secrets(home).items():
        env.setdefault(name, value)
    return env


def _secrets(home: Path) -> dict[str, str]:
    """Airflow's secrets, generated once into $F1_HOME/secrets.env (mode 0600)."""
    from cryptography.fernet import Fernet

    path = home / "secrets.env"
    wanted = {
        "AIRFLOW__API_AUTH__JWT_SECRET": lambda: secrets.token_urlsafe(48),
        "AIRFLOW__API__SECRET_KEY": lambda: secrets.token_urlsafe(48),
        "AIRFLOW__CORE__FERNET_KEY": lambda: Fernet.generate_key().decode(),
        "F1_JWT_SECRET": lambda: secrets.token_urlsafe(48),
    }
    values: dict[str, str] = {}
    if path.exists():
        lines = path.read_text().splitlines()
        values = dict(tuple(line.split("=", 1)) for line in lines if "=" in line)  # type: ignore[misc]
    missing = {k: make() for k, make in wanted.items() if k not in values}
    if missing:
        home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in missing.items())
    return {**values, **missing}


def airflow_part(health_url: str, key: str) -> bool:
    """Whether Airflow's health endpoint reports `key` (scheduler, dag_processor, triggerer)
    healthy: each of them heartbeats into the metadata database."""
    try:
        status = httpx.get(health_url, timeout=2).json().get(key) or {}
    except (httpx.HTTPError, ValueError):
        return False
    return bool(status.get("status") == "healthy")


def components(home: Path, env: dict[str, str]) -> list[Component]:
    """Airflow (API server, scheduler, DAG processor, triggerer), MLflow, the service.

    Airflow's parts run as `airflow standalone` would start them, but each on its own: the
    scheduler and the triggerer without their log servers, which listen on every address
    (8793/8794, no setting binds them to the loopback) and which one machine does not need:
    the API server reads the task logs from $AIRFLOW_HOME/logs itself."""
    airflow_port = int(env.get("AIRFLOW__API__PORT", "8080"))
    mlflow_port = int(env.get("F1_MLFLOW_PORT", "5000"))
    service_port = int(env.get("F1_SERVICE_PORT", "8000"))
    host = "127.0.0.1"
    # the web app links to the other UIs
    env.setdefault("F1_AIRFLOW_URL", f"http://{host}:{airflow_port}")
    env.setdefault("F1_MLFLOW_URL", f"http://{host}:{mlflow_port}")
    health = f"http://{host}:{airflow_port}/api/v2/monitor/health"
    airflow = str(BIN / "airflow")
    parts = [
        Component(
            "airflow",
            [airflow, "api-server", "--host", host, "--port", str(airflow_port)],
            airflow_port,
            health,
            f"http://{host}:{airflow_port}",
        )
    ]
    for name, command in (
        ("scheduler", [airflow, "scheduler", "--skip-serve-logs"]),
        ("dag_processor", [airflow, "dag-processor"]),
        ("triggerer", [airflow, "triggerer", "--skip-serve-logs"]),
    ):
        parts.append(
            Component(
                name.replace("_", "-"),
                command,
                None,
                f"{name} heartbeat in {health}",
                probe=functools.partial(airflow_part, health, name),
            )
        )
    return [
        *parts,
        Component(
            "mlflow",
            [
                str(BIN / "mlflow"),
                "server",
                "--host",
                host,
                "--port",
                str(mlflow_port),
                "--backend-store-uri",
                env["MLFLOW_TRACKING_URI"],
                "--artifacts-destination",
                str(home / "mlartifacts"),
                "--workers",
                "1",
                "--app-name",  # MLflow's app, its UI opening experiments on their runs
                "f1",
            ],
            mlflow_port,
            f"http://{host}:{mlflow_port}/health",
            f"http://{host}:{mlflow_port}",
        ),
        Component(
            "service",
            [
                str(BIN / "uvicorn"),
                "--factory",
                "serving.app:create_app",
                "--host",
                env.get("F1_SERVICE_HOST", host),
                "--port",
                str(service_port),
            ],
            service_port,
            f"http://{host}:{service_port}/health",
            f"http://{host}:{service_port}/",
        ),
    ]
