"""`f1 up` (behind `make up`): secrets, environment, refusal on busy ports, a real run, and the
distributed shape (`make up-distributed`) running the whole chain."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import stat
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

from cli.components import ROOT, platform_env
from cli.distributed import StoreUnreachable, distributed_env, ensure_databases
from cli.platform import run_platform
from pipelines.snapshot import load_snapshot
from tests.servers.base import LocalServer
from tests.servers.s3 import S3
from tests.snapshots import snapshot_until
from warehouse.db import make_engine
from warehouse.migrate import upgrade


def _listening(port: int) -> set[str]:
    """The IPv4 addresses a TCP socket listens on at `port` (Linux's /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, at = local.split(":")
        if state == "0A" and int(at, 16) == port:  # 0A: LISTEN
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_secrets_are_generated_once_privately_and_never_in_the_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_HOME")
    first = platform_env(tmp_path)
    second = platform_env(tmp_path)
    names = (
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__FERNET_KEY",
    )
    for name in names:
        assert len(first[name]) >= 32 and first[name] == second[name]
    mode = stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode)
    assert mode == 0o600
    committed = (ROOT / "airflow.cfg").read_text()
    assert not any(first[name] in committed for name in names)
    assert first["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert first["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_a_busy_port_stops_it_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("F1_HOME", str(home))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("F1_SERVICE_PORT", str(busy.getsockname()[1]))
        assert run_platform() == 1
    assert not (home / "warehouse.db").exists()


def _ready(url: str) -> bool:
    # /ready loads a newly trained champion on the request that first finds it: slow while
    # the launcher is still training the other stage on the same two cores
    try:
        return httpx.get(url, timeout=60).status_code == 200
    except httpx.TimeoutException:
        return False


def walk_first_things(service: str, mlflow: str, env: dict[str, str]) -> None:
    """Issue 35: the README's "first things to try" in order, in Chromium, as a newcomer
    meets them after `make up`: no error anywhere, every advertised feature with data."""
    from tests.serving.test_web import chromium

    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        refused: list[str] = []  # which address a "Failed to load resource" was
        page.on(
            "response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        # the web app: the latest race's prediction against its result, a race, the what-if
        assert page.goto(service).status == 200  # type: ignore[union-attr]
        assert page.locator("h1").inner_text() == "Latest race"
        page.locator("#last-race a").click()
        page.wait_for_url(f"{service}/races/2024/24")
        assert page.locator("main h2").first.inner_text() == "After qualifying"
        podium = page.locator("section[aria-labelledby=stage-post_quali] thead").inner_text()
        assert "P(podium)" in podium  # the finishing-order champion's markets
        slots = page.locator("ol.slots input")
        for k in range(slots.count()):  # the grid reversed
            slots.nth(k).fill(str(slots.count() - k))
        page.get_by_role("button", name="Compute").click()
        page.locator("#what-if-answer table tbody tr").first.wait_for(timeout=60_000)
        page.locator("section[aria-labelledby=stage-post_quali] tbody a").first.click()
        page.wait_for_url(re.compile(".*/drivers/.*"))
        # the model page: the walk-forward backtest as the track record until races are scored
        page.get_by_role("link", name="Track record").click()
        page.wait_for_url(f"{service}/model")
        for stage in ("pre_quali", "post_quali"):
            section = page.locator(f"section[aria-labelledby=record-{stage}]")
            assert "(backtest)" in section.locator("h2").inner_text()
            assert section.locator("table").first.locator("tbody tr").count() == 2
        served = page.locator("table.numbers").first.inner_text()
        assert "–" not in served.split("\n", 1)[1]  # every champion, the order models too
        # the championship: the 2024 title fight round by round, from the first scoring run
        page.get_by_role("link", name="Championship").click()
        page.wait_for_url(f"{service}/championship/2024")
        assert "After round 23" in page.locator("main").inner_text()
        # the recipes, searched by typing
        page.get_by_role("link", name="Recipes").click()
        page.get_by_label("Search").press_sequentially("carbonara", delay=20)
        page.wait_for_function("document.querySelector('#results > p').innerText !== '24 recipes'")
        assert "Spaghetti alla Carbonara" in page.locator("#results h2").all_inner_texts()
        assert "detail" not in page.locator("main").inner_text()
        assert (problems, refused) == ([], [])  # nothing went wrong on our pages
        # MLflow: a model experiment opens on its training runs
        found = httpx.get(
            f"{mlflow}/api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": "f1_winner_pre_quali"},
            timeout=30,
        ).json()["experiment"]
        page.goto(f"{mlflow}/#/experiments/{found['experiment_id']}")
        page.get_by_text("train pre_quali 1981–2024").wait_for(timeout=60_000)
        assert "workflowType=machine_learning" in page.url and "/runs" in page.url
        browser.close()
    # MLflow's UI asks who is signed in, which a server without its auth app answers 404
    probe = f"{mlflow}/ajax-api/2.0/mlflow/users/current"
    assert [r for r in refused if r != f"404 {probe}"] == []
    assert [p for p in problems if "status of 404" not in p] == []
    # the command line and the API, as the README gives them
    f1 = Path(sys.executable).parent / "f1"
    told = subprocess.run(
        [str(f1), "predict", "2024", "24", "--stage", "post_quali", "--markets"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert told.returncode == 0, told.stdout + told.stderr
    assert "f1_order_post_quali" in told.stdout
    answer = httpx.get(
        f"{service}/api/v1/predictions/2024/24?stage=post_quali&markets=true", timeout=120
    )
    assert answer.status_code == 200
    markets = answer.json()["predictions"][0]["markets"]
    assert 0 < markets["podium"] <= 1 and answer.json()["order_model"]["version"] == "1"
    odds = httpx.get(f"{service}/api/v1/championship/2024", timeout=30).json()
    assert [r["after_round"] for r in odds["rounds"]] == list(range(24))


@pytest.mark.slow
def test_up_serves_every_health_url_and_f1_down_stops_everything(tmp_path: Path) -> None:
    ports = {name: _free_port() for name in ("airflow", "mlflow", "service", "logs", "triggerer")}
    env = {
        **os.environ,
        "F1_HOME": str(tmp_path / "home"),
        "AIRFLOW__API__PORT": str(ports["airflow"]),
        "F1_MLFLOW_PORT": str(ports["mlflow"]),
        "F1_SERVICE_PORT": str(ports["service"]),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["logs"]),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["triggerer"]),
    }
    env.pop("AIRFLOW_HOME")  # let f1 up place it under F1_HOME
    f1 = Path(sys.executable).parent / "f1"
    log = (tmp_path / "up.log").open("w+")
    proc = subprocess.Popen(
        [str(f1), "up"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while "F1 platform is up" not in (tmp_path / "up.log").read_text():
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(1)
        urls = {
            "airflow": f"http://127.0.0.1:{ports['airflow']}/api/v2/monitor/health",
            "mlflow": f"http://127.0.0.1:{ports['mlflow']}/health",
            "service": f"http://127.0.0.1:{ports['service']}/health",
        }
        for name, url in urls.items():
            assert httpx.get(url, timeout=5).status_code == 200, name
        assert httpx.get(urls["airflow"], timeout=5).json()["scheduler"]["status"] == "healthy"
        output = (tmp_path / "up.log").read_text()
        assert "Airflow login: user admin / password " in output
        recipes = httpx.get(f"http://127.0.0.1:{ports['service']}/api/v1/recipes", timeout=5)
        assert recipes.json()["total"] >= 20  # the bundled recipes are seeded

        # then the first runs, as DAG runs: features, training (every target), scoring (the
        # latest season's title odds); the service serves every champion
        service = f"http://127.0.0.1:{ports['service']}"
        # about two minutes on an idle machine; the other test worker and the platform's own
        # processes share the two cores (a deadline, not a speed target)
        deadline = time.monotonic() + 900
        while "F1 platform is ready" not in (tmp_path / "up.log").read_text():
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(3)
        assert _ready(f"{service}/ready")
        assert httpx.get(f"{service}/ready").json()["champion"] == {
            "pre_quali": "1",
            "post_quali": "1",
        }
        airflow = Airflow(f"http://127.0.0.1:{ports['airflow']}", tmp_path / "home")
        dags = {d["dag_id"]: d for d in airflow.call("GET", "/dags")["dags"]}
        assert {d for d, dag in dags.items() if not dag["is_paused"]} == set(DAGS)
        assert dags["polymarket_bot"]["is_paused"]  # the one that trades waits for a person
        for dag_id in ("f1_features", "f1_train", "f1_score"):
            runs = airflow.runs(dag_id)
            assert "success" in {r["state"] for r in runs}, (dag_id, runs)
        train = next(r for r in airflow.runs("f1_train") if r["state"] == "success")
        trained = airflow.tasks("f1_train", train["dag_run_id"])
        assert {t["task_id"] for t in trained if t["state"] == "success"} >= {
            "train_pre_quali", "train_post_quali", "train_order_pre_quali",
            "train_order_post_quali",
        }  # fmt: skip
        # its task logs are in the UI with no log server listening anywhere (8793/8794)
        log = airflow.http.get(
            f"/dags/f1_train/dagRuns/{train['dag_run_id']}/taskInstances/train_pre_quali/logs/1",
            headers={"Accept": "application/json"},
        )
        assert log.status_code == 200 and "f1_winner_pre_quali" in json.dumps(log.json())
        assert _listening(ports["logs"]) == set() and _listening(ports["triggerer"]) == set()
        # the README's first things to try, on this home
        walk_first_things(service, f"http://127.0.0.1:{ports['mlflow']}", env)
        # every component listens on the loopback only (Airflow's own default is 0.0.0.0)
        for name in ("airflow", "mlflow", "service"):
            assert _listening(ports[name]) == {"127.0.0.1"}, name
        # `f1 down` from another terminal stops it as Ctrl-C does
        down = subprocess.run(
            [str(f1), "down"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert down.returncode == 0 and "the platform is stopped" in down.stdout, down.stdout
        code = proc.wait(timeout=10)
        assert not (tmp_path / "home" / "up.pid").exists()
        again = subprocess.run([str(f1), "down"], env=env, cwd=ROOT, capture_output=True, text=True)
        assert again.returncode == 0 and "not running" in again.stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the process group
            proc.wait(timeout=60)
    assert code == 0
    for port in (ports["airflow"], ports["mlflow"], ports["service"]):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"


# -- `f1 up --distributed` (`make up-distributed`): the DAGs on Airflow's CeleryExecutor with
# Redis as the broker, PostgreSQL for Airflow, MLflow and the warehouse, two Celery workers and
# two service replicas sharing the Redis cache; the chain ingest → features → train → promote →
# score run through Airflow's REST API against a local F1 API. In this file with the embedded
# shape's run, so the two never start at once on the same two cores (one file, one worker).

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
BROKER_DB, CACHE_DB = 14, 13  # Redis databases no other test uses
DAGS = ("f1_ingest", "f1_features", "f1_train", "f1_promote", "f1_score")


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


class Airflow:
    """Airflow's REST API (v2) with a JWT for the generated admin password."""

    def __init__(self, base: str, home: Path) -> None:
        passwords = home / "airflow" / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())["admin"]
        token = httpx.post(
            f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=30
        ).json()["access_token"]
        self.http = httpx.Client(
            base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"])

    def tasks(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.call("GET", path)["task_instances"])


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
        airflow = Airflow(f"http://127.0.0.1:{ports['airflow']}", home)
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
            _wait("the champions", lambda b=base: _both_champions(b), proc, log, 300)
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


def _both_champions(base: str) -> bool:
    try:
        answer = httpx.get(f"{base}/ready", timeout=60)
    except httpx.TimeoutException:
        return False
    return answer.status_code == 200 and set(answer.json()["champion"]) == {
        "pre_quali",
        "post_quali",
    }
