"""`f1 up` (behind `make up`): secrets, environment, refusal on busy ports and a real run (the
distributed shape, `make up-distributed`, is in test_distributed.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cli.components import ROOT, platform_env
from cli.first_runs import Airflow
from cli.platform import run_platform
from spec import STAGES

DAGS = ("f1_ingest", "f1_features", "f1_train", "f1_promote", "f1_score")


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
        champions = httpx.get(f"{service}/ready").json()["champion"]
        assert champions == dict.fromkeys(STAGES.names, "1")
        airflow = Airflow(f"http://127.0.0.1:{ports['airflow']}", tmp_path / "home" / "airflow")
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
