"""The service under mixed load: 16, 200 and 1,000 concurrent connections, SQLite and PostgreSQL.

    python bench/load.py [--seconds 60] [--connections 16,200,1000] [--backends sqlite,postgres]
                         [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--home DIR]
                         [--mix api|reads] [--attack]

Builds its own stores in a temporary home (or --home): the bundled 1950–2024 history, the
published features, both stages' models (a quick recipe: the serving path is what is measured),
the bundled recipes and 100 users. For each backend and connection count it starts the service
as `f1 serve` does (uvicorn, one process, default settings), warms it up, then drives it for
`--seconds` with that many keep-alive connections, each from its own 127.0.x.y address (as many
clients would be) and each sending a mix of requests back to back:

    predictions 32 · races 22 · recipes 22 · drivers 16 · exports 6 · sign-ins 2 (weights)

(a sign-in is 22 ms of CPU by design, and each client address may try 50 per 15 minutes).

A well-behaved client: after a 429 or 503 it waits the Retry-After it was given. A request
unanswered in 10 s is a client timeout. Meanwhile a user of its own, from a process of its own,
asks /health and /api/v1/recipes/1 every 50 ms each.

`--mix reads`: each client instead cycles through /health, /races?season=2024,
/drivers?season=2024, /recipes, /races/2024/24 and /circuits back to back and does NOT honour
Retry-After (a refusal is followed by the next request at once): the racing reads are answered
from the per-build read cache, so the target is 0 refusals at 200 clients.

`--attack`: beside the clients, the two anonymous attacks of issue 34 run for the whole load:
32 slow bodies (`POST /api/v1/auth/login` announcing 100,000 bytes and sending one every 5 s,
reconnecting when dropped) and 4 loops of `GET /api/v1/recipes` with the tag repeated 500 times
(and with every dietary tag twice, 16, the most allowed, and a new search each time), one
request every 3 s per loop, each dropped by its client after 3 s.

Prints, per run: requests/s, answers by status, p50/p95/p99 per kind of route (of the requests
it answered; refusals, 429 or 503, on a line of their own), the probe's /health and /recipes/1
p99, what the attackers got, server memory before and 10 s after the load, and whether the
targets hold: 0 × 5xx other than 503 + Retry-After (clients and attackers), 0 client timeouts,
every refusal with Retry-After, /health p99 ≤ 50 ms (≤ 250 ms under attack), /recipes/1 p99
≤ 250 ms, memory back within 10 % (and with --mix reads at ≤ 200 clients: 0 refusals).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spec  # noqa: E402
from bench.attacks import (  # noqa: E402
    TIMEOUT_S,
    _attack_process,
    _probe_process,
    read_response,
)
from bench.load_stores import PASSWORD, USERS, forget_sign_ins, prepare  # noqa: E402
from bench.serving import BIN, ROOT, free_port, wait  # noqa: E402

WEIGHTS = {
    "predictions": 30,
    "races": 20,
    "recipes": 20,
    "drivers": 15,
    "exports": 8,
    "sign-ins": 7,
}
DRIVERS = ["max_verstappen", "norris", "leclerc", "piastri", "sainz", "hamilton", "russell"]
QUERIES = ["", "q=tomato", "q=guanciale", "tag=vegetarian", "max_minutes=30", "sort=-title"]
READS = [
    "/health",
    "/api/v1/races?season=2024",
    "/api/v1/drivers?season=2024",
    "/api/v1/recipes",
    "/api/v1/races/2024/24",
    "/api/v1/circuits",
]


def request_for(kind: str, rng: random.Random, token: str, user: int) -> bytes:
    body = b""
    if kind == "predictions":
        stage = rng.choice(spec.STAGES.names)
        path = f"/api/v1/predictions/2024/{rng.randint(1, 24)}?stage={stage}"
    elif kind == "races":
        path = rng.choice(
            [
                f"/api/v1/races?season={rng.randint(2000, 2024)}",
                f"/api/v1/races/2024/{rng.randint(1, 24)}",
            ]
        )
    elif kind == "recipes":
        path = f"/api/v1/recipes?{rng.choice(QUERIES)}"
    elif kind == "drivers":
        path = rng.choice(["/api/v1/drivers?season=2024", f"/api/v1/drivers/{rng.choice(DRIVERS)}"])
    elif kind == "exports":
        path = f"/api/v1/export/race-results?season={rng.randint(2015, 2024)}&format=csv"
    else:
        path = "/api/v1/auth/login"
        body = f'{{"email": "fan{user}@example.org", "password": "{PASSWORD}"}}'.encode()
    head = f"{'POST' if body else 'GET'} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if kind == "exports":
        head += f"Authorization: Bearer {token}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


class Run:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter[int] = Counter()
        self.timeouts = 0
        self.refusals_without_retry = 0
        self.server_errors = 0
        self.probed: dict[str, list[float]] = {}
        self.probe_failures: dict[str, int] = {}
        self.attack: dict[str, int] | None = None
        self.attack_errors = 0


def read_request(step: int) -> tuple[str, bytes]:
    path = READS[step % len(READS)]
    return path, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


async def client(
    port: int, index: int, stop: float, run: Run, token: str, mix: str = "api"
) -> None:
    rng = random.Random(index)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    local = (f"127.0.{index // 250}.{index % 250 + 2}", 0)
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    step = index
    while time.perf_counter() < stop:
        if mix == "reads":
            kind, request = read_request(step)
            step += 1
        else:
            kind = rng.choices(kinds, weights)[0]
            request = request_for(kind, rng, token, rng.randrange(USERS))
        started = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port, local_addr=local), TIMEOUT_S
                )
            reader, writer = connection
            writer.write(request)
            status, headers = await asyncio.wait_for(read_response(reader), TIMEOUT_S)
        except TimeoutError:
            run.timeouts += 1
            connection = _drop(connection)
            continue
        except (OSError, asyncio.IncompleteReadError):
            connection = _drop(connection)  # the server closed a keep-alive connection
            continue
        elapsed = (time.perf_counter() - started) * 1000
        run.latency["refused" if status in (429, 503) else kind].append(elapsed)
        run.status[status] += 1
        if headers.get("connection") == "close":
            connection = _drop(connection)
        if status in (429, 503):
            if "retry-after" not in headers:
                run.refusals_without_retry += 1
            if mix != "reads":
                await asyncio.sleep(
                    min(float(headers.get("retry-after", 1)), stop - time.perf_counter(), 5)
                )
        elif status >= 500:
            run.server_errors += 1


def _drop(connection: Any) -> None:
    if connection is not None:
        connection[1].close()


async def drive(
    port: int,
    connections: int,
    seconds: float,
    token: str,
    first: int = 0,
    mix: str = "api",
    attack: bool = False,
) -> Run:
    """The load from this process; the probe (and the attackers) from processes of their own,
    so that what the probe measures is the service, not this process's busy event loop."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    run = Run()
    receiving, sending = multiprocessing.Pipe(duplex=False)
    prober = fork.Process(target=_probe_process, args=(port, seconds, sending))
    prober.start()
    if attack:
        attack_in, attack_out = multiprocessing.Pipe(duplex=False)
        attacking = fork.Process(target=_attack_process, args=(port, seconds, attack_out))
        attacking.start()
    stop = time.perf_counter() + seconds
    await asyncio.gather(
        *(client(port, first + i, stop, run, token, mix) for i in range(connections))
    )
    run.probed, run.probe_failures = receiving.recv()
    prober.join()
    if attack:
        run.attack, run.attack_errors = attack_in.recv()
        attacking.join()
    return run


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def login(port: int) -> str:
    import httpx

    body = {"email": "analyst@example.org", "password": PASSWORD}
    return str(
        httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json=body).json()["access_token"]
    )


def once(
    url: str,
    home: Path,
    connections: int,
    seconds: float,
    extra: dict[str, str],
    mix: str = "api",
    attack: bool = False,
) -> dict[str, Any]:
    forget_sign_ins(url)
    port = free_port()
    env = {
        **os.environ,
        **extra,
        "F1_DATABASE_URL": url,
        "F1_HOME": str(home),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
        "F1_JWT_SECRET": "b" * 48,
    }
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "--factory", "serving.app:create_app", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--backlog", "4096"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        wait(f"http://127.0.0.1:{port}/ready")
        token = login(port)
        asyncio.run(drive(port, 16, 10, token, first=5000))  # warm-up, from other addresses
        before = rss_mib(server.pid)
        run = asyncio.run(drive(port, connections, seconds, token, mix=mix, attack=attack))
        time.sleep(10)
        after = rss_mib(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {"run": run, "before": before, "after": after, "seconds": seconds, "mix": mix}


def report(backend: str, connections: int, result: dict[str, Any]) -> bool:
    run: Run = result["run"]
    total = sum(run.status.values())
    refusals = run.status[429] + run.status[503]
    memory = result["after"] / result["before"] - 1
    attacked = run.attack is not None
    print(f"\n{backend}, {connections} connections ({result['mix']} mix"
          f"{', under attack' if attacked else ''}), {result['seconds']:.0f} s: "
          f"{total / result['seconds']:.0f} req/s, answers {dict(sorted(run.status.items()))}, "
          f"{run.timeouts} client timeouts")  # fmt: skip
    kinds = READS if result["mix"] == "reads" else list(WEIGHTS)
    for kind in [*kinds, "refused"]:
        ms = np.array(run.latency[kind] or [float("nan")])
        rate = len(run.latency[kind]) / result["seconds"]
        print(f"  {kind:28} {rate:7.1f} req/s  "
              f"p50 {np.percentile(ms, 50):7.1f} ms  p95 {np.percentile(ms, 95):7.1f} ms  "
              f"p99 {np.percentile(ms, 99):7.1f} ms")  # fmt: skip
    p99 = {}
    for name, latencies in run.probed.items():
        ms = np.array(latencies or [float("nan")])
        p99[name] = float(np.percentile(ms, 99))
        print(f"  probe {name:11} p50 {np.percentile(ms, 50):.1f} ms  p99 {p99[name]:.1f} ms "
              f"({len(latencies)} asked, {run.probe_failures[name]} not 200)")  # fmt: skip
    if attacked:
        print(f"  attackers got {dict(sorted((run.attack or {}).items()))}")
    print(f"  memory {result['before']:.0f} MiB before, {result['after']:.0f} MiB 10 s after "
          f"({memory:+.1%}); refusals {refusals} ({refusals / max(total, 1):.1%})")  # fmt: skip
    health_bound = 250 if attacked or result["mix"] == "reads" else 50
    checks = {
        "0 × 5xx other than 503": run.server_errors == 0 and run.attack_errors == 0,
        "0 client timeouts": run.timeouts == 0,
        "every refusal with Retry-After": run.refusals_without_retry == 0,
        f"/health p99 ≤ {health_bound} ms": p99["/health"] <= health_bound
        and run.probe_failures["/health"] == 0,
        "/recipes/1 p99 ≤ 250 ms": p99["/recipes/1"] <= 250
        and run.probe_failures["/recipes/1"] == 0,
        "memory back within 10 %": memory <= 0.10,
    }
    if result["mix"] == "reads" and connections <= 200:
        checks["0 refusals"] = refusals == 0
    print("  " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks.items()))
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", default="16,200,1000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--home", type=Path, help="reuse the stores built there by a run before")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the service")
    parser.add_argument("--mix", choices=["api", "reads"], default="api")
    parser.add_argument("--attack", action="store_true", help="slow bodies and repeated tags too")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    backends = args.backends.split(",")
    home = args.home or Path(tempfile.mkdtemp(prefix="f1-load-"))
    if args.home and (home / "warehouse.db").exists():
        urls = {"sqlite": f"sqlite:///{home / 'warehouse.db'}",
                "postgres": args.postgres.rsplit("/", 1)[0] + "/f1_load_bench"}  # fmt: skip
        os.environ["F1_HOME"] = str(home)
    else:
        urls = prepare(home, backends, args.postgres)
    met = True
    for backend in backends:
        for connections in (int(n) for n in args.connections.split(",")):
            print(f"{backend}: {connections} connections for {args.seconds:.0f} s …", flush=True)
            result = once(
                urls[backend], home, connections, args.seconds, extra, args.mix, args.attack
            )
            met &= report(backend, connections, result)
    print("\nall targets met" if met else "\nsome targets missed")


if __name__ == "__main__":
    main()
