"""Times a first `make up` as a new user meets it: `f1 up` on an empty F1_HOME (the stack is
installed; `make install` on a clean clone is timed apart with --install), until every UI
answers its health check (target ≤ 60 s) and until /ready reports both stages' champions
(target ≤ 3 min); then stops it with `f1 down`. Prints when each step's line appeared, so what
dominates shows.

    .venv/bin/python bench/first_run.py               # the platform on one machine
    .venv/bin/python bench/first_run.py --distributed # make up-distributed (PostgreSQL, Redis)

Run it on an idle machine: it uses both cores.
"""

from __future__ import annotations

import argparse
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lines(proc: subprocess.Popen[str], out: queue.Queue[tuple[float, str]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        out.put((time.monotonic(), line.rstrip()))


def _ready(url: str) -> bool:
    try:
        answer = httpx.get(url, timeout=30)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and len(answer.json().get("champion") or {}) == 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument(
        "--install", action="store_true", help="also time `make install` in a clone"
    )
    args = parser.parse_args()
    if args.install:
        with tempfile.TemporaryDirectory(prefix="f1-clone-") as clone:
            subprocess.run(["git", "clone", "-q", str(ROOT), clone], check=True)
            started = time.perf_counter()
            subprocess.run(["make", "-s", "install"], cwd=clone, check=True, capture_output=True)
            print(f"make install on a clean clone: {time.perf_counter() - started:.0f} s")
    ports = {name: _free_port() for name in ("airflow", "mlflow", "logs", "triggerer")}
    service = _free_port()
    with tempfile.TemporaryDirectory(prefix="f1-first-run-") as scratch:
        env = {
            **os.environ,
            "F1_HOME": str(Path(scratch) / "home"),
            "AIRFLOW__API__PORT": str(ports["airflow"]),
            "F1_MLFLOW_PORT": str(ports["mlflow"]),
            "F1_SERVICE_PORT": str(service),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports["logs"]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["triggerer"]),
            "COLUMNS": "160",
        }
        env.pop("AIRFLOW_HOME", None)
        command = [str(BIN / "f1"), "up"]
        databases: list[str] = []
        if args.distributed:
            tag = uuid.uuid4().hex[:6]
            server = "postgresql+psycopg://postgres@127.0.0.1:5432"
            names = {
                "F1_DATABASE_URL": f"bench_wh_{tag}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"bench_af_{tag}",
                "MLFLOW_TRACKING_URI": f"bench_ml_{tag}",
            }
            env.update({k: f"{server}/{v}" for k, v in names.items()})
            env["AIRFLOW__CELERY__BROKER_URL"] = "redis://127.0.0.1:6379/9"
            env["REDIS_URL"] = "redis://127.0.0.1:6379/8"
            databases = list(names.values())
            command.append("--distributed")
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=_lines, args=(proc, lines), daemon=True).start()
        up = ready = None
        try:
            while ready is None and time.monotonic() - started < 900:
                try:
                    at, line = lines.get(timeout=2)
                except queue.Empty:
                    at, line = time.monotonic(), ""
                if line.strip():
                    print(f"{at - started:6.1f} s  {line}")
                if up is None and "F1 platform is up" in line:
                    up = at - started
                if up is not None and _ready(f"http://127.0.0.1:{service}/ready"):
                    ready = time.monotonic() - started
                if proc.poll() is not None:
                    break
        finally:
            subprocess.run(
                [str(BIN / "f1"), "down"], env=env, capture_output=True, check=False, timeout=120
            )
            proc.wait(timeout=120)
            if databases:
                from sqlalchemy import create_engine, text

                engine = create_engine(
                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                    isolation_level="AUTOCOMMIT",
                )
                with engine.connect() as connection:
                    for name in databases:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                engine.dispose()
    shape = "make up-distributed" if args.distributed else "make up"
    print(f"{shape}, first run: every UI healthy after {up or float('nan'):.0f} s (target ≤ 60 s)")
    print(
        f"{shape}, first run: /ready with both champions after {ready or float('nan'):.0f} s "
        "(target ≤ 180 s)"
    )


if __name__ == "__main__":
    main()
