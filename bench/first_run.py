"""Times the first hour's first minutes as a new user meets them: `make up` in a fresh clone
of this repository (its own .uv/ and .venv/ installed from uv.lock, an empty F1_HOME), until
every URL answers its health check (target ≤ 3 min, install included) and until it says the
platform is ready: the first f1_features, f1_train and f1_score DAG runs done and every model
served (target ≤ 4 min, install included); then `make down` in the clone, which must end
with its "stopped" line. Prints when each line of `make up` appeared, so what dominates shows.

    .venv/bin/python bench/first_run.py               # make up in a fresh clone (HEAD)
    .venv/bin/python bench/first_run.py --distributed # make up-distributed, this checkout

Run it on an idle machine: it uses both cores. It clones what is committed (HEAD).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
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
URLS_TARGET_S, READY_TARGET_S = 180, 240


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lines(proc: subprocess.Popen[str], out: queue.Queue[tuple[float, str]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        out.put((time.monotonic(), line.rstrip()))


def _served(url: str) -> int:
    """How many stages' champions /ready reports."""
    try:
        answer = httpx.get(url, timeout=30)
    except httpx.HTTPError:
        return 0
    return len(answer.json().get("champion") or {}) if answer.status_code == 200 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distributed", action="store_true")
    args = parser.parse_args()
    service = _free_port()
    with tempfile.TemporaryDirectory(prefix="f1-first-run-") as scratch:
        env = {
            **os.environ,
            "F1_HOME": str(Path(scratch) / "home"),
            "AIRFLOW__API__PORT": str(_free_port()),
            "F1_MLFLOW_PORT": str(_free_port()),
            "F1_SERVICE_PORT": str(service),
            "COLUMNS": "160",
        }
        for name in ("AIRFLOW_HOME", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS"):
            env.pop(name, None)
        databases: list[str] = []
        if args.distributed:
            where = ROOT
            command = [str(BIN / "f1"), "up", "--distributed"]
            down = [str(BIN / "f1"), "down"]
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
        else:
            where = Path(scratch) / "clone"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(where)], check=True)
            command, down = ["make", "up"], ["make", "down"]
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=where,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=_lines, args=(proc, lines), daemon=True).start()
        installed = up = ready = None
        try:
            while ready is None and time.monotonic() - started < 1800:
                try:
                    at, line = lines.get(timeout=2)
                except queue.Empty:
                    continue
                if line.strip():
                    print(f"{at - started:6.1f} s  {line}", flush=True)
                if installed is None and "installing the stack" in line and "done" in line:
                    installed = at - started
                if up is None and "F1 platform is up" in line:
                    up = at - started
                if ready is None and "F1 platform is ready" in line:
                    ready = at - started
                if proc.poll() is not None and lines.empty():
                    break
            served = _served(f"http://127.0.0.1:{service}/ready")
        finally:
            stopped = subprocess.run(
                down, env=env, cwd=where, capture_output=True, text=True, check=False, timeout=180
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
            shutil.rmtree(Path(scratch) / "clone", ignore_errors=True)
    last = stopped.stdout.strip().splitlines()[-1] if stopped.stdout.strip() else ""
    shape = "make up-distributed" if args.distributed else "make up, fresh clone"

    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.0f} s"

    if not args.distributed:
        print(f"{shape}: installed after {seconds(installed)}")
    print(f"{shape}: every URL healthy after {seconds(up)} (target ≤ {URLS_TARGET_S} s)")
    print(
        f"{shape}: ready after {seconds(ready)}, {served} stages served "
        f"(target ≤ {READY_TARGET_S} s)"
    )
    print(f"{' '.join(down)}: {last!r}")


if __name__ == "__main__":
    main()
