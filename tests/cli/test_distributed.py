"""The distributed shape (`make up-distributed`): its environment, an unreachable store named
before anything starts, and the whole chain on two Celery workers and two service replicas."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from cli.components import ROOT
from cli.distributed import StoreUnreachable, distributed_env, ensure_databases
from cli.first_runs import Airflow
from cli.platform import run_platform
from pipelines.snapshot import load_snapshot
from spec import STAGES
from tests.cli.test_platform import DAGS, _free_port
from tests.servers.base import LocalServer
from tests.servers.s3 import S3
from tests.snapshots import snapshot_until
from warehouse.db import make_engine
from warehouse.migrate import upgrade

# -- `f1 up --distributed` (`make up-distributed`): the DAGs on Airflow's CeleryExecutor with
# Redis as the broker, PostgreSQL for Airflow, MLflow and the warehouse, two Celery workers and
# two service replicas sharing the Redis cache; the chain ingest → features → train → promote →
# score run through Airflow's REST API against a local F1 API. In this file with the embedded
# shape's run, so the two never start at once on the same two cores (one file, one worker).

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
BROKER_DB, CACHE_DB = 14, 13  # Redis databases no other test uses


@pytest.fixture
def databases() -> Iterator[dict[str, str]]:
    """Three new PostgreSQL databases (created by ensure_databases, as `f1 up` does), dropped
    afterwards."""
    tag = uuid.uuid4().hex[:8]
    urls = {
        "F1_DATABASE_URL": f"{SERVER}/f1dist_wh_{tag}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{SERVER}/f1dist_af_{tag}",
        "MLFLOW_TRACKING_URI": f"{SERVER}/f1dist_ml_{tag}",
    }
    created = ensure_databases(urls)
    assert sorted(created) == sorted(u.rsplit("/", 1)[1] for u in urls.values())
    assert ensure_databases(urls) == []  # a second start creates nothing
    yield urls
    server = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def test_distributed_env_keeps_what_is_set_and_fills_the_rest() -> None:
    env = distributed_env({"REDIS_URL": "redis://cache.internal:6379/3"})
    assert env["REDIS_URL"] == "redis://cache.internal:6379/3"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/1"
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert conn.startswith("postgresql+psycopg://") and conn.endswith("/f1_airflow")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + conn


def test_distributed_names_an_unreachable_store_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = _free_port()  # nothing listens there
    # run_platform sets the distributed shape's variables in its process: keep them to this test
    monkeypatch.setattr(os, "environ", os.environ.copy())
    monkeypatch.setenv("F1_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed}/0")
    assert run_platform(distributed=True) == 1
    assert f"Redis at redis://127.0.0.1:{closed}/0 (REDIS_URL) does not answer" in (
        capsys.readouterr().err.replace("\n", "")
    )
    with pytest.raises(StoreUnreachable, match=f"PostgreSQL for F1_DATABASE_URL .*:{closed}/f1"):
        ensure_databases(
            {**distributed_env({}), "F1_DATABASE_URL": f"postgresql://u@127.0.0.1:{closed}/f1"}
        )
    assert not (tmp_path / "home" / "logs").exists()  # nothing was started


def _free_pair() -> int:
    """A free port whose next port is free too, below Linux's ephemeral range (32768–60999):
    a port the kernel hands out for another test's bind(0) or outgoing connection would take
    the second one before our process binds it."""
    import random

    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def _wait(what: str, check: Any, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert proc.poll() is None, f"f1 up exited while waiting for {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(3)


def _finished(airflow: Airflow, dag_id: str, after: int = 0) -> list[dict[str, Any]] | None:
    """The DAG's runs once more than `after` exist and none is queued or running; a failed run
    fails the test with its failed tasks."""
    runs = airflow.runs(dag_id)
    if len(runs) <= after or any(r["state"] in ("queued", "running") for r in runs):
        return None
    for run in runs:
        if run["state"] != "success":
            failed = [
                (t["task_id"], t["state"])
                for t in airflow.tasks(dag_id, run["dag_run_id"])
                if t["state"] not in ("success", "skipped")
            ]
            raise AssertionError(f"{dag_id} {run['dag_run_id']}: {run['state']} {failed}")
    return runs


@pytest.mark.slow
def test_the_chain_runs_on_two_celery_workers_and_both_replicas_serve_its_champion(
    tmp_path: Path,
    databases: dict[str, str],
    jolpica: LocalServer,
    meteo: LocalServer,
    s3: S3,
) -> None:
    """Every file the platform writes goes to S3 (moto's server; F1_ARTIFACTS_URL, set by the
    `s3` fixture): features, validation results and Data Docs, MLflow artifacts, exports."""
    # the warehouse as it was after round 22 of 2024; the F1 API serves the season's end
    warehouse = make_engine(databases["F1_DATABASE_URL"])
    upgrade(warehouse)
    load_snapshot(warehouse, snapshot_until(tmp_path / "cut", 2024, 22))
    for db in (BROKER_DB, CACHE_DB):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
    home = tmp_path / "home"
    ports = {n: _free_port() for n in ("airflow", "mlflow", "triggerer")}
    service, logs = _free_pair(), _free_pair()  # two replicas, two workers' log servers
    env = {
        **os.environ,
        **databases,
        "F1_HOME": str(home),
        "REDIS_URL": f"redis://127.0.0.1:6379/{CACHE_DB}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{BROKER_DB}",
        "AIRFLOW__API__PORT": str(ports["airflow"]),
        "F1_MLFLOW_PORT": str(ports["mlflow"]),
        "F1_SERVICE_PORT": str(service),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(logs),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["triggerer"]),
        "AIRFLOW_CONN_F1_API": json.dumps(
            {"conn_type": "http", "host": f"{jolpica.url}/ergast/f1"}
        ),
        "F1_API_RATE_PER_SECOND": "1000",
        "OPEN_METEO_ARCHIVE_URL": f"{meteo.url}/v1/archive",
        "OPEN_METEO_FORECAST_URL": f"{meteo.url}/v1/forecast",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    }
    env.pop("AIRFLOW_HOME")  # f1 up places it under F1_HOME
    log = tmp_path / "up.log"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "f1"), "up", "--distributed", "--no-load", "--no-train"],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    timings: dict[str, float] = {}
    try:
        _wait("the platform", lambda: "F1 platform is up" in log.read_text(), proc, log, 300)
        timings["up"] = time.monotonic() - started
        output = log.read_text()
        for part in ("scheduler", "dag-processor", "triggerer", "worker-1", "worker-2"):
            assert f"✓ {part} healthy" in output, output
        airflow = Airflow(f"http://127.0.0.1:{ports['airflow']}", home / "airflow")
        parsed = _wait(
            "the DAGs parsed",
            lambda: {d["dag_id"] for d in airflow.call("GET", "/dags")["dags"]} >= set(DAGS),
            proc,
            log,
            180,
        )
        assert parsed
        for dag_id in DAGS:
            airflow.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

        # ingest (the Monday after the last two rounds) → features, through the f1/warehouse asset
        monday = dt.datetime(2024, 12, 16, 6, tzinfo=dt.UTC).isoformat()
        airflow.call("POST", "/dags/f1_ingest/dagRuns", json={"logical_date": monday})
        _wait("f1_ingest", lambda: _finished(airflow, "f1_ingest"), proc, log, 600)
        _wait("f1_features", lambda: _finished(airflow, "f1_features"), proc, log, 600)
        timings["ingest+features"] = time.monotonic() - started - timings["up"]
        with warehouse.connect() as connection:
            rounds = connection.scalars(
                text(
                    "SELECT DISTINCT r.round FROM races r JOIN race_results rr "
                    "ON rr.race_id = r.id WHERE r.season = 2024 ORDER BY r.round"
                )
            ).all()
        assert rounds == list(range(1, 25))

        # train → promote (the f1/models asset) → score (f1/models and f1/champions)
        scored = len(airflow.runs("f1_score"))
        conf = {"start": 2019, "force": True}
        airflow.call("POST", "/dags/f1_train/dagRuns", json={"logical_date": None, "conf": conf})
        _wait("f1_train", lambda: _finished(airflow, "f1_train"), proc, log, 900)
        _wait("f1_promote", lambda: _finished(airflow, "f1_promote"), proc, log, 600)
        _wait("f1_score", lambda: _finished(airflow, "f1_score", scored), proc, log, 600)
        timings["chain"] = time.monotonic() - started - timings["up"]

        # every task ran on a Celery worker, and both workers ran some
        ran: dict[str, set[str]] = {}
        for index in (1, 2):
            worker_log = (home / "logs" / f"worker-{index}.log").read_text()
            ran[f"worker-{index}"] = set(
                re.findall(r"Task \S+\[([0-9a-f-]{36})\] received", worker_log)
            )
        assert all(ran.values()), {k: len(v) for k, v in ran.items()}
        tasks = [
            t
            for dag_id in DAGS
            for run in airflow.runs(dag_id)
            for t in airflow.tasks(dag_id, run["dag_run_id"])
            if t["state"] == "success"
        ]
        assert sum(len(v) for v in ran.values()) >= len(tasks) > 0  # one Celery task each

        # the files are on S3, where machines other than this one would read them
        keys = s3.keys("platform/")
        shared = "platform/features/race_entry_features_v1"
        assert f"{shared}/manifest.json" in keys
        published = json.loads(s3.read(f"{shared}/manifest.json"))
        assert f"{shared}/builds/{published['build_id']}/post_quali.parquet" in keys
        index = s3.read("platform/validation/data_docs/index.html").decode()
        suites = ("races", "results", "qualifying", "standings", "features_post_quali")
        assert all(f"validations/{suite}/" in index for suite in suites), index[-2000:]
        assert any(k.startswith("platform/validation/results/features_pre_quali-") for k in keys)
        assert sum(k.startswith("platform/mlflow/") and k.endswith("/MLmodel") for k in keys) >= 4
        assert any(k.startswith("platform/exports/season=2024/") for k in keys)
        assert not (home / "validation").exists()  # nothing of it only on this machine

        # both replicas serve the same champion's answer (the second from the shared cache)
        answers = []
        for port in (service, service + 1):
            base = f"http://127.0.0.1:{port}"
            _wait("the champions", lambda b=base: _every_champion(b), proc, log, 300)
            answers.append(
                httpx.get(f"{base}/api/v1/predictions/2024/24?stage=post_quali", timeout=60).json()
            )
        first, second = answers
        assert first["model"]["alias"] == "champion"
        assert first["model"] == second["model"]
        assert first["predictions"] == second["predictions"]
        assert abs(sum(p["probability"] for p in first["predictions"]) - 1) < 1e-6
        cache = redis.Redis(host="127.0.0.1", port=6379, db=CACHE_DB)
        assert cache.dbsize() > 0  # the replicas' shared cache holds answers
        # the second replica answered from what the first stored in Redis
        metrics = httpx.get(f"http://127.0.0.1:{service + 1}/metrics", timeout=10).text
        assert re.search(r'f1_prediction_cache_total\{result="shared"\} [1-9]', metrics), metrics
        print(f"distributed chain timings (s): {timings}")
    finally:
        down = subprocess.run(
            [str(Path(sys.executable).parent / "f1"), "down"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=60)
        warehouse.dispose()
    assert down.returncode == 0, down.stdout + down.stderr


def _every_champion(base: str) -> bool:
    try:
        answer = httpx.get(f"{base}/ready", timeout=60)
    except httpx.TimeoutException:
        return False
    return answer.status_code == 200 and set(answer.json()["champion"]) == set(STAGES.names)
