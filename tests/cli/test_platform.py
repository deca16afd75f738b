"""`f1 up` (behind `make up`): secrets, environment, refusal on busy ports, and a real run."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cli.platform import ROOT, platform_env, run_platform


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

        # then it trains a first champion per stage from the bundled history, and the
        # service (started before) picks them up and serves real predictions
        service = f"http://127.0.0.1:{ports['service']}"
        # two trainings of about a minute each on an idle machine; the other test worker and
        # the platform's own processes share the two cores (a deadline, not a speed target)
        deadline = time.monotonic() + 900
        while not _ready(f"{service}/ready"):
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(5)
        assert httpx.get(f"{service}/ready").json()["champion"] == {
            "pre_quali": "1",
            "post_quali": "1",
        }
        # the first answer loads the model and the features (a busy machine: no speed target)
        answer = httpx.get(
            f"{service}/api/v1/predictions/2024/24?stage=post_quali", timeout=60
        ).json()
        assert answer["model"] == {
            "name": "f1_winner_post_quali",
            "version": "1",
            "alias": "champion",
        }
        assert abs(sum(p["probability"] for p in answer["predictions"]) - 1) < 1e-6
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
