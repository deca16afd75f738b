"""The platform's first runs, as Airflow DAG runs: `f1 up` unpauses the F1 DAGs (never a
catch-up run: their timetables start from the next due time) and, on a home without them,
triggers the first feature build and the first training; the asset events then run scoring
(the next race's predictions, or the latest season's title odds) and the promotion gate. Each
run is in the Airflow UI with its task logs, as every later one will be."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from cli.console import console

if TYPE_CHECKING:
    from cli.components import Component

# the F1 DAGs `f1 up` unpauses; the Polymarket bot's DAG stays paused until a person
# unpauses it: it is the one DAG that talks to a market (on paper unless told otherwise)
F1_DAGS = ("f1_ingest", "f1_features", "f1_train", "f1_promote", "f1_score")
FINISHED = ("success", "failed")


class FirstRunFailed(RuntimeError):
    """A first DAG run failed: names the run and its failed tasks."""


class Airflow:
    """Airflow's REST API (v2) as the generated admin user (SimpleAuthManager)."""

    def __init__(self, base: str, airflow_home: Path, timeout: float = 30) -> None:
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())["admin"]
        answer = httpx.post(
            f"{base}/auth/token",
            json={"username": "admin", "password": password},
            timeout=timeout,
        )
        answer.raise_for_status()
        self.http = httpx.Client(
            base_url=f"{base}/api/v2",
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            timeout=timeout,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code >= 300:
            raise RuntimeError(f"Airflow {method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def dags(self) -> dict[str, dict[str, Any]]:
        found = self.call("GET", "/dags", params={"limit": 100})["dags"]
        return {d["dag_id"]: d for d in found}

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.call(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}}
        )
        return str(run["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        found = self.call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})
        return list(found["dag_runs"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}"))

    def tasks(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return list(self.call("GET", path)["task_instances"])

    def close(self) -> None:
        self.http.close()


def wait_for_dags(airflow: Airflow, timeout_s: float, show: Callable[[str], None]) -> None:
    """Until the DAG processor has parsed every F1 DAG."""
    deadline = time.monotonic() + timeout_s
    while True:
        missing = [d for d in F1_DAGS if d not in airflow.dags()]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise FirstRunFailed(f"DAGs not parsed within {timeout_s:.0f}s: {', '.join(missing)}")
        show(f"waiting for the DAG processor to parse {', '.join(missing)}")
        time.sleep(1)


def unpause(airflow: Airflow) -> list[str]:
    """Unpause every paused F1 DAG; the ones it unpaused."""
    paused = [d for d, dag in airflow.dags().items() if d in F1_DAGS and dag["is_paused"]]
    for dag_id in paused:
        airflow.unpause(dag_id)
    return paused


def progress(airflow: Airflow, dag_id: str, run_id: str) -> str:
    """`f1_train: 2/5 tasks done, running train_pre_quali, train_post_quali`."""
    tasks = airflow.tasks(dag_id, run_id)
    done = [t for t in tasks if t["state"] in ("success", "skipped")]
    running = [t["task_id"] for t in tasks if t["state"] == "running"]
    now = f", running {', '.join(running)}" if running else ""
    return f"{dag_id}: {len(done)}/{len(tasks)} tasks done{now}"


def wait_for_run(
    airflow: Airflow,
    dag_id: str,
    run_id: str,
    timeout_s: float,
    show: Callable[[str], None],
    alive: Callable[[], bool] = lambda: True,
) -> dict[str, Any]:
    """The run once it has finished; a failed run raises naming its failed tasks."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = airflow.run(dag_id, run_id)
        if run["state"] == "success":
            return run
        if run["state"] == "failed":
            failed = [
                t["task_id"]
                for t in airflow.tasks(dag_id, run_id)
                if t["state"] not in ("success", "skipped")
            ]
            raise FirstRunFailed(
                f"{dag_id} run {run_id} failed ({', '.join(failed) or 'no task'}): "
                "its task logs are in the Airflow UI"
            )
        if time.monotonic() > deadline or not alive():
            raise FirstRunFailed(f"{dag_id} run {run_id} not finished within {timeout_s:.0f}s")
        show(progress(airflow, dag_id, run_id))
        time.sleep(2)


def wait_for_settled(
    airflow: Airflow,
    dag_id: str,
    after: str,
    timeout_s: float,
    show: Callable[[str], None],
    alive: Callable[[], bool] = lambda: True,
    settle_s: float = 30.0,
) -> dict[str, Any]:
    """The newest run of `dag_id` queued after `after` (ISO time: asset-triggered runs, e.g.
    by every model a training registered), once none of those is queued or running and none
    has been added for `settle_s` (the scheduler turns the last events into a run within it;
    on a busy machine that took more than 6 s, and the title odds of the last run were not
    waited for); a failed newest run raises naming its failed tasks."""
    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    seen = -1
    while True:
        later = [r for r in airflow.runs(dag_id) if (r.get("queued_at") or "") > after]
        busy = [r for r in later if r["state"] not in FINISHED]
        if later and not busy:
            if len(later) != seen:
                seen, quiet_since = len(later), time.monotonic()
            elif quiet_since is not None and time.monotonic() - quiet_since >= settle_s:
                newest = max(later, key=lambda r: r["queued_at"])
                left = max(1.0, deadline - time.monotonic())
                return wait_for_run(airflow, dag_id, newest["dag_run_id"], left, show, alive)
        else:
            seen, quiet_since = -1, None
        if time.monotonic() > deadline or not alive():
            raise FirstRunFailed(f"{dag_id}: runs after {after} not done within {timeout_s:.0f}s")
        if busy:
            show(progress(airflow, dag_id, busy[0]["dag_run_id"]))
        else:
            show(f"waiting for {dag_id} to be triggered by the new models")
        time.sleep(1)


FIRST_RUN_TIMEOUT_S = 1800  # a busy machine; on an idle one the whole chain takes minutes


def first_runs(
    env: dict[str, str],
    parts: list[Component],
    alive: Callable[[], bool],
    ready_timeout_s: float,
) -> bool:
    """Unpause the F1 DAGs and, where this home has no features or no champion yet, run the
    first feature build and training as DAG runs, then wait for the scoring they trigger
    (the next race's predictions, else the latest season's title odds) and for the service to
    serve the champions. False when nothing had to run (the platform was ready)."""
    from feature_store.store import pull
    from models.registry import CHAMPION, alias_version
    from spec import model_names

    api = next(p for p in parts if p.name == "airflow")
    try:
        airflow = Airflow(api.ui, Path(env["AIRFLOW_HOME"]))
    except (OSError, KeyError, ValueError, httpx.HTTPError) as error:
        raise FirstRunFailed(
            f"cannot sign in to Airflow's API as admin ({error}); the DAGs are left as they "
            "are: `f1 up --no-train` skips the first runs"
        ) from error
    try:
        with console.status("waiting for the DAG processor") as status:
            wait_for_dags(airflow, ready_timeout_s, status.update)
            unpaused = unpause(airflow)
        if unpaused:
            console.print(
                f"[green]✓[/] unpaused {', '.join(unpaused)} (from their next due time on: "
                "nothing in the past is caught up)"
            )
        missing = [n for n in model_names() if alias_version(n, CHAMPION) is None]
        if pull() is not None and not missing:
            return False
        with console.status("first runs") as status:
            if pull() is None:
                started = time.monotonic()
                run_id = airflow.trigger("f1_features")
                wait_for_run(
                    airflow, "f1_features", run_id, FIRST_RUN_TIMEOUT_S, status.update, alive
                )
                console.print(
                    f"[green]✓[/] f1_features run {run_id}: validated, built and published "
                    f"({time.monotonic() - started:.0f}s)"
                )
            if missing:
                started = time.monotonic()
                # forced: a model with versions but no champion is "nothing new" to its gate
                run_id = airflow.trigger("f1_train", {"force": True})
                run = wait_for_run(
                    airflow, "f1_train", run_id, FIRST_RUN_TIMEOUT_S, status.update, alive
                )
                console.print(
                    f"[green]✓[/] f1_train run {run_id}: {', '.join(missing)} trained, first "
                    f"versions are the champions ({time.monotonic() - started:.0f}s)"
                )
                started = time.monotonic()
                scored = wait_for_settled(
                    airflow, "f1_score", run["start_date"], FIRST_RUN_TIMEOUT_S, status.update,
                    alive,
                )  # fmt: skip
                console.print(
                    f"[green]✓[/] f1_score run {scored['dag_run_id']}: predictions and "
                    f"championship odds stored ({time.monotonic() - started:.0f}s)"
                )
            service = next(p for p in parts if p.name.startswith("service"))
            status.update("waiting for the service to load the champions")
            deadline = time.monotonic() + ready_timeout_s
            while not _serving(service.ui) and time.monotonic() < deadline and alive():
                time.sleep(1)
        return True
    finally:
        airflow.close()


def _serving(base: str) -> bool:
    """Whether the service's readiness probe says it serves the champions."""
    try:
        return httpx.get(f"{base}ready", timeout=30).status_code == 200
    except httpx.HTTPError:
        return False
