"""`f1 up`: migrate every store, load the history, run Airflow, MLflow and the service.

Each component runs as its own process group with its log under $F1_HOME/logs; Ctrl-C (or
SIGTERM) stops them all. Running it again is safe: migrations and the load are idempotent,
secrets are generated once, and a port already taken stops it before anything starts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from cli.components import BIN, ROOT, Component, components, platform_env
from cli.console import console, errors, libraries_to

READY_TIMEOUT_S = 180


def prepare_stores(home: Path, env: dict[str, str], load_history: bool) -> None:
    """Migrate the warehouse and Airflow's database; load the bundled history."""
    from pipelines.snapshot import load_snapshot
    from warehouse.db import make_engine
    from warehouse.migrate import upgrade

    engine = make_engine()
    upgrade(engine)
    console.print(f"[green]✓[/] warehouse migrated ({engine.url.render_as_string()})")
    if load_history:
        report = load_snapshot(engine)
        console.print(
            f"[green]✓[/] bundled history loaded: {report.total.changed:,} rows changed, "
            f"{report.total.unchanged:,} unchanged ({report.seconds:.1f}s)"
        )
    from apps.recipes import seed

    counts = seed(engine)
    console.print(
        f"[green]✓[/] pasta recipes seeded ({counts['inserted']} new, {counts['updated']} updated)"
    )
    engine.dispose()
    with console.status("preparing MLflow's tracking store"):
        # Created here, once: the MLflow server and the service would otherwise both create
        # its tables at start-up and trip over each other.
        from models.registry import client

        client().search_registered_models(max_results=1)
    console.print(f"[green]✓[/] MLflow tracking store ready ({env['MLFLOW_TRACKING_URI']})")
    with console.status("migrating Airflow's database"):
        _run_logged([str(BIN / "airflow"), "db", "migrate"], env, home / "logs" / "airflow-db.log")
    pool = [str(BIN / "airflow"), "pools", "set", "f1_api", "1", "Jolpica F1 API: one at a time"]
    _run_logged(pool, env, home / "logs" / "airflow-pools.log")
    console.print("[green]✓[/] Airflow database migrated, pool f1_api (1 slot) set")


def _run_logged(command: list[str], env: dict[str, str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as handle:
        done = subprocess.run(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed; see {log}")


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_healthy(parts: list[Component], procs: dict[str, subprocess.Popen[bytes]]) -> bool:
    pending = {c.name: c for c in parts}
    deadline = time.monotonic() + READY_TIMEOUT_S
    with console.status("waiting for " + ", ".join(pending)) as status:
        while pending and time.monotonic() < deadline:
            for name, part in list(pending.items()):
                if procs[name].poll() is not None:
                    errors.print(f"[red]{name} exited with code {procs[name].returncode}[/]")
                    return False
                if part.healthy():
                    console.print(f"[green]✓[/] {name} healthy ({part.health})")
                    del pending[name]
            status.update("waiting for " + ", ".join(pending))
            time.sleep(1)
    if pending:
        errors.print(f"[red]not healthy within {READY_TIMEOUT_S}s: {', '.join(pending)}[/]")
    return not pending


def _airflow_login(env: dict[str, str]) -> str:
    path = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    try:
        passwords = json.loads(path.read_text())
    except (OSError, ValueError):
        return f"user admin, password in {path}"
    return ", ".join(f"user {user} / password {pw}" for user, pw in passwords.items())


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _interrupt(_signum: int, _frame: object) -> None:
    # Installed explicitly: a background launch inherits SIGINT ignored; SIGTERM (a supervisor)
    # stops the platform the same way Ctrl-C does.
    raise KeyboardInterrupt


PIDFILE = "up.pid"


def stop_platform(wait_s: float = 90) -> int:
    """Ask the running `f1 up` of this F1_HOME to stop (SIGTERM: what Ctrl-C does) and wait
    until it has stopped everything; the exit code."""
    from spec.settings import WarehouseSettings

    pidfile = WarehouseSettings().f1_home.resolve() / PIDFILE
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        console.print(f"the platform is not running ({pidfile} is absent)")
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pidfile.unlink(missing_ok=True)
        console.print(f"the platform is not running (process {pid} is gone); removed {pidfile}")
        return 0
    deadline = time.monotonic() + wait_s
    with console.status(f"stopping the platform (process {pid})"):
        while _alive(pid):
            if time.monotonic() > deadline:
                errors.print(f"[red]process {pid} did not stop within {wait_s:.0f}s[/]")
                return 1
            time.sleep(0.5)
    console.print("[green]✓[/] the platform is stopped")
    return 0


def _alive(pid: int) -> bool:
    """Whether the process runs (an exited one its parent has not reaped yet, a zombie, does
    not: its `f1 up` is done)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): the signal's answer is all there is
    return state != "Z"


def run_platform(load_history: bool = True, train: bool = True, distributed: bool = False) -> int:
    """Bring the platform up and keep it up until Ctrl-C; the exit code. `distributed`: the
    CeleryExecutor shape on PostgreSQL and Redis (cli/distributed.py)."""
    from spec.settings import WarehouseSettings

    home = WarehouseSettings().f1_home.resolve()
    if distributed:
        from cli.distributed import distributed_components, distributed_env

        os.environ.update(distributed_env(dict(os.environ)))
    env = platform_env(home)
    shared = ("F1_HOME", "MLFLOW_TRACKING_URI", "F1_DATABASE_URL", "REDIS_URL")
    os.environ.update({k: env[k] for k in shared if k in env})
    parts = distributed_components(home, env) if distributed else components(home, env)
    taken = [f"{c.name} ({c.port})" for c in parts if c.port and _port_taken(c.port)]
    if taken:
        errors.print(f"[red]port in use: {', '.join(taken)}; is the platform already running?[/]")
        return 1
    pidfile = home / PIDFILE
    home.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(str(os.getpid()))  # for `f1 down` in another terminal
    try:
        if distributed:
            from cli.distributed import StoreUnreachable, announce, check_redis, ensure_databases

            try:
                check_redis(env)
                announce(env, ensure_databases(env))
            except StoreUnreachable as error:
                errors.print(f"[red]{error}[/]")
                return 1
        return _run(home, env, parts, load_history, train)
    finally:
        if pidfile.exists() and pidfile.read_text().strip() == str(os.getpid()):
            pidfile.unlink()


def _run(
    home: Path, env: dict[str, str], parts: list[Component], load_history: bool, train: bool
) -> int:
    logs = home / "logs"
    with libraries_to(logs / "f1-up.log"):  # MLflow's and pip's chatter: the log, not here
        prepare_stores(home, env, load_history)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        for part in parts:
            log = (logs / f"{part.name}.log").open("ab")
            procs[part.name] = subprocess.Popen(
                part.command,
                env={**env, **part.env},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not _wait_healthy(parts, procs):
            errors.print(f"logs: {logs}")
            return 1
        _summary("F1 platform is up", parts, env, logs)
        if train:

            def alive() -> bool:
                return all(p.poll() is None for p in procs.values())

            try:
                from cli.first_runs import first_runs

                with libraries_to(logs / "f1-up.log"):
                    ran = first_runs(env, parts, alive, READY_TIMEOUT_S)
            except (RuntimeError, httpx.HTTPError) as error:  # FirstRunFailed, Airflow's API
                errors.print(f"[red]{error}[/]")
                return 1
            if ran:
                _summary("F1 platform is ready: every model has a champion", parts, env, logs)
            else:
                console.rule("[bold]F1 platform is ready: every model has a champion")
            service = next(p for p in parts if p.name.startswith("service"))
            console.print(
                "  Try: "
                f"{service.ui}races/2024/24 · {service.ui}docs · "
                f"{os.path.relpath(BIN / 'f1')} predict 2024 24 --stage post_quali --markets"
            )
        while all(p.poll() is None for p in procs.values()):
            time.sleep(1)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        errors.print(f"[red]stopped unexpectedly: {', '.join(dead)}; logs: {logs}[/]")
        return 1
    except KeyboardInterrupt:
        with console.status("stopping…"):
            _stop(procs)
        console.print(f"[green]✓[/] stopped: {', '.join(procs)}")
        return 0
    finally:
        _stop(procs)  # stopped already unless leaving on an error


def _summary(title: str, parts: list[Component], env: dict[str, str], logs: Path) -> None:
    console.rule(f"[bold]{title}")
    for part in parts:
        if part.ui:
            console.print(f"  {part.name:9} {part.ui}")
    console.print(f"  Airflow login: {_airflow_login(env)}")
    console.print(f"  logs: {logs}   (Ctrl-C or `make down` stops everything)")
