"""`f1 up --distributed` (`make up-distributed`): the platform in the shape it takes across
machines, on this one.

Airflow runs the CeleryExecutor with Redis as the broker and PostgreSQL as its metadata
database and result backend; the scheduler, the DAG processor, the triggerer, the API server
and two Celery workers are separate processes. The warehouse and MLflow's tracking store are
PostgreSQL databases, and the service runs as two replicas sharing the Redis cache. Every
address is a URL (defaults below, each overridable by its variable), so the same processes
started on other machines with the same URLs, and `F1_ARTIFACTS_URL` on S3 for the files, form
the same platform.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlsplit

from cli.components import BIN, Component, airflow_part, components
from cli.console import console

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULTS = {
    "F1_DATABASE_URL": f"{POSTGRES}/f1",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{POSTGRES}/f1_airflow",
    "MLFLOW_TRACKING_URI": f"{POSTGRES}/f1_mlflow",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/1",
}
WORKERS = 2
REPLICAS = 2


def distributed_env(env: dict[str, str]) -> dict[str, str]:
    """`env` with the distributed shape's settings (each variable already set wins)."""
    env = dict(env)
    for name, value in DEFAULTS.items():
        env.setdefault(name, value)
    env["AIRFLOW__CORE__EXECUTOR"] = "CeleryExecutor"
    env.setdefault(
        "AIRFLOW__CELERY__RESULT_BACKEND", "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    )
    env.setdefault("AIRFLOW__CELERY__WORKER_CONCURRENCY", "2")
    return env


class StoreUnreachable(RuntimeError):
    """PostgreSQL or Redis does not answer at the URL given."""


def check_redis(env: dict[str, str]) -> None:
    """Redis answers at the service cache's and the broker's URLs (StoreUnreachable if not)."""
    import redis

    for name in ("REDIS_URL", "AIRFLOW__CELERY__BROKER_URL"):
        client = redis.Redis.from_url(env[name], socket_connect_timeout=3)
        try:
            client.ping()
        except redis.RedisError as error:
            message = f"Redis at {env[name]} ({name}) does not answer: {error}"
            raise StoreUnreachable(message) from None
        finally:
            client.close()


def ensure_databases(env: dict[str, str]) -> list[str]:
    """Create each PostgreSQL database the URLs name that does not exist yet (on the same
    server, through its `postgres` database); the names created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from spec.settings import normalise_url

    created = []
    for name in ("F1_DATABASE_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "MLFLOW_TRACKING_URI"):
        url = make_url(normalise_url(env[name]))
        if url.get_backend_name() != "postgresql" or not url.database:
            continue
        server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            try:
                connection = server.connect()
            except OperationalError as error:
                shown = url.render_as_string(hide_password=True)
                reason = str(error.orig).strip().splitlines()[0]
                raise StoreUnreachable(f"PostgreSQL for {name} ({shown}): {reason}") from None
            with connection:
                exists = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": url.database},
                )
                if not exists:
                    quoted = connection.dialect.identifier_preparer.quote(url.database)
                    connection.execute(text(f"CREATE DATABASE {quoted}"))
                    created.append(url.database)
        finally:
            server.dispose()
    return created


def _celery_ping(broker: str, node: str) -> bool:
    """Whether Celery worker `node` answers a ping through the broker."""
    from celery import Celery

    app = Celery(broker=broker)
    try:
        return bool(app.control.ping(destination=[node], timeout=1.0))
    except Exception:  # noqa: BLE001 (a broker not up yet is "not yet healthy")
        return False
    finally:
        app.close()


def distributed_components(home: Path, env: dict[str, str]) -> list[Component]:
    """API server, scheduler, DAG processor, triggerer, two Celery workers, MLflow and two
    service replicas."""
    embedded = {c.name: c for c in components(home, env)}
    api = embedded["airflow"]
    airflow = str(BIN / "airflow")
    host = urlsplit(api.health).hostname or "127.0.0.1"
    parts = [
        Component(
            "airflow",
            [airflow, "api-server", "--host", host, "--port", str(api.port)],
            api.port,
            api.health,
            api.ui,
        )
    ]
    for name, command in (
        ("scheduler", "scheduler"),
        ("dag_processor", "dag-processor"),
        ("triggerer", "triggerer"),
    ):
        parts.append(
            Component(
                name.replace("_", "-"),
                [airflow, command],
                None,
                f"{name} heartbeat in {api.health}",
                probe=functools.partial(airflow_part, api.health, name),
            )
        )
    broker = env["AIRFLOW__CELERY__BROKER_URL"]
    log_port = int(env.get("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", "8793"))
    for index in range(1, WORKERS + 1):
        node = f"worker-{index}@{os.uname().nodename}"
        parts.append(
            Component(
                f"worker-{index}",
                [airflow, "celery", "worker", "--celery-hostname", node],
                None,
                f"Celery ping of {node}",
                probe=functools.partial(_celery_ping, broker, node),
                # each worker serves its task logs on its own port (one machine here)
                env={"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port + index - 1)},
            )
        )
    parts.append(embedded["mlflow"])
    service = embedded["service"]
    assert service.port is not None
    for index in range(1, REPLICAS + 1):
        port = service.port + index - 1
        base = f"http://{host}:{port}"
        replica = [*service.command[:-1], str(port)]  # the command ends with the port
        parts.append(Component(f"service-{index}", replica, port, f"{base}/health", f"{base}/"))
    return parts


def announce(env: dict[str, str], created: list[str]) -> None:
    """Say which stores the distributed shape uses."""
    from sqlalchemy.engine import make_url

    def shown(url: str) -> str:
        return make_url(url).render_as_string(hide_password=True) if "://" in url else url

    if created:
        console.print(f"[green]✓[/] PostgreSQL databases created: {', '.join(created)}")
    console.print(
        "  CeleryExecutor: broker "
        f"{shown(env['AIRFLOW__CELERY__BROKER_URL'])}, metadata "
        f"{shown(env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'])}; service cache "
        f"{shown(env['REDIS_URL'])}"
    )
