"""Our prediction API against the same champion behind `mlflow models serve`.

    python bench/serving.py [--seconds 30] [--clients 16] [--season 2024 --round 24]
                            [--redis redis://127.0.0.1:6379/15]

Needs a trained champion in the configured stores (`f1 train --stage post_quali`). Starts both
servers on free local ports, warms each up, then drives each with N concurrent clients for S
seconds and prints requests/s and p50/p95/p99 (with `--redis`, our answers are shared through
that Redis as in a deployment; its `f1:` keys are deleted first, so nothing is found there):

- MLflow's `POST /invocations` carrying one race's feature rows;
- ours, cached: `GET /api/v1/predictions/{season}/{round}?stage=post_quali`, the same race;
- ours, first answers: every (race, stage) of the published store once, shuffled (no answer
  can come from the cache: each is computed: features, model, names, encoding);
- ours, what-if: `POST /api/v1/predictions/what-if`, a random 2014–2024 race's entrants in a
  random grid order each time (never cached).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import spec

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not come up in {seconds:.0f}s")


def request_bytes(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def drive(
    port: int, requests: Callable[[], bytes | None], clients: int, seconds: float
) -> tuple[int, Any, int, float]:
    """(requests done, latencies in ms, errors, seconds taken) of `clients` keep-alive
    connections each sending the next of `requests()` back to back for `seconds` (or until it
    gives None). A bare asyncio HTTP/1.1 client (like wrk): a Python HTTP library would spend
    more of the two cores than the servers under test."""
    latencies: list[float] = []
    errors = 0
    began = time.perf_counter()
    stop = began + seconds

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                request = requests()
                if request is None:
                    break
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                at = head.lower().index(b"content-length:") + len(b"content-length:")
                await reader.readexactly(int(head[at : head.index(b"\r\n", at)]))
                latencies.append((time.perf_counter() - started) * 1000)
                if head[9:12] != b"200":
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(clients)))
    return len(latencies), np.array(latencies), errors, time.perf_counter() - began


def repeat(request: bytes) -> Callable[[], bytes | None]:
    return lambda: request


def each(requests: list[bytes]) -> Callable[[], bytes | None]:
    """Every request of the list once, in turn (None when all were sent)."""
    items = iter(requests)
    return lambda: next(items, None)


MLFLOW = "mlflow models serve (POST /invocations)"
CACHED = "ours, cached (GET /predictions/{s}/{r})"
FIRST = "ours, first answers (GET, each race once)"
WHAT_IF = "ours, what-if (POST, a new grid each time)"


def first_answers(races: list[tuple[int, int, str]], rng: random.Random) -> list[bytes]:
    """One GET per (season, round, stage), shuffled: none can be answered from the cache."""
    order = list(races)
    rng.shuffle(order)
    return [
        request_bytes("GET", f"/api/v1/predictions/{season}/{round_}?stage={stage}")
        for season, round_, stage in order
    ]


def what_ifs(
    entrants: dict[tuple[int, int], list[str]], rng: random.Random
) -> Callable[[], bytes | None]:
    """Endless what-if requests: a random race of those given, its entrants in a random order."""
    keys = list(entrants)

    def next_request() -> bytes:
        season, round_ = rng.choice(keys)
        drivers = list(entrants[(season, round_)])
        rng.shuffle(drivers)
        grid = [{"driver_id": d, "position": i} for i, d in enumerate(drivers, start=1)]
        body = json.dumps({"season": season, "round": round_, "grid": grid}).encode()
        return request_bytes("POST", "/api/v1/predictions/what-if", body)

    return next_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--season", type=int, default=2024)
    parser.add_argument("--round", type=int, default=24)
    parser.add_argument("--redis", help="share our answers through this Redis (a spare db)")
    args = parser.parse_args()
    if args.redis:
        import redis

        shared = redis.Redis.from_url(args.redis)
        for key in shared.scan_iter("f1:*", count=1000):
            shared.delete(key)

    from feature_store.online import get_entry_features
    from feature_store.view import feature_names
    from models.registry import CHAMPION, alias_version, model_name, tracking_uri
    from warehouse.db import make_engine

    name = model_name("post_quali")
    version = alias_version(name, CHAMPION)
    if version is None:
        raise SystemExit(f"{name} has no champion: run `f1 train --stage post_quali` first")
    from feature_store.store import read_offline

    rows = get_entry_features(make_engine(), args.season, args.round, "post_quali")
    races: list[tuple[int, int, str]] = []
    entrants: dict[tuple[int, int], list[str]] = {}
    for stage in spec.STAGES.names:
        published = read_offline(stage)
        for (season, round_), race in published.groupby(["season", "round"]):
            races.append((int(season), int(round_), stage))
            if stage == spec.STAGES[-1].name and int(season) >= 2014:  # the grid known
                entrants[(int(season), int(round_))] = list(race["driver_ref"])
    payload = {
        "dataframe_split": json.loads(
            rows[["race_id", "driver_id", *feature_names("post_quali")]].to_json(orient="split")
        )
    }
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri(),
        "F1_AB_SHARE": "0",
        **({"REDIS_URL": args.redis} if args.redis else {}),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # mlflow runs a bare `uvicorn`
    }
    ours, theirs = free_port(), free_port()
    procs = [
        subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "--factory",
                "serving.app:create_app",
                "--port",
                str(ours),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        ),  # fmt: skip
        subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{name}@{CHAMPION}",
                "--env-manager",
                "local",
                "--port",
                str(theirs),
                "--host",
                "127.0.0.1",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),  # fmt: skip
    ]
    try:
        wait(f"http://127.0.0.1:{ours}/ready")
        wait(f"http://127.0.0.1:{theirs}/ping")
        path = f"/api/v1/predictions/{args.season}/{args.round}?stage=post_quali"
        started = time.perf_counter()
        first = httpx.get(f"http://127.0.0.1:{ours}{path}").json()
        cold = (time.perf_counter() - started) * 1000
        check = httpx.post(f"http://127.0.0.1:{theirs}/invocations", json=payload).json()
        served = {p["driver_id"]: p["probability"] for p in first["predictions"]}
        mlflow_probs = [r["probability"] for r in check["predictions"]]
        same = np.allclose(sorted(served.values()), sorted(mlflow_probs), atol=1e-9)
        print(f"{name} v{version}, race {args.season} R{args.round}: same probabilities: {same}")
        print(f"ours, first request of the race (then cached): {cold:.1f} ms")
        print(f"our cache: {'Redis at ' + args.redis if args.redis else 'in-process'}")
        mlflow_request = request_bytes("POST", "/invocations", json.dumps(payload).encode())
        phases: dict[str, tuple[int, Callable[[], Callable[[], bytes | None]]]] = {
            MLFLOW: (theirs, lambda: repeat(mlflow_request)),
            CACHED: (ours, lambda: repeat(request_bytes("GET", path))),
            FIRST: (ours, lambda: each(first_answers(races, random.Random(1)))),
            WHAT_IF: (ours, lambda: what_ifs(entrants, random.Random(2))),
        }
        results = {}
        for label, (port, requests) in phases.items():
            if label != FIRST:  # every first answer is asked once: no warm-up of those
                asyncio.run(drive(port, requests(), args.clients, 3))
            done, ms, errors, took = asyncio.run(
                drive(port, requests(), args.clients, args.seconds)
            )
            results[label] = done / took
            print(
                f"{label:46} {done / took:8.1f} req/s  p50 {np.percentile(ms, 50):6.1f} ms"
                f"  p95 {np.percentile(ms, 95):6.1f} ms  p99 {np.percentile(ms, 99):6.1f} ms"
                f"  errors {errors}  ({done} requests, {args.clients} clients, {took:.0f}s)"
            )
        for label in (CACHED, FIRST, WHAT_IF):
            print(f"{label}: {results[label] / results[MLFLOW]:.1f}× mlflow models serve")
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
