"""1,000 voters casting their ballots, SQLite and PostgreSQL.

    python bench/voting.py [--voters 1000] [--rate 100] [--backends sqlite,postgres]
                           [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

For each backend: a fresh warehouse, an open election of two positions and `--voters` members
(voter tokens signed directly: the sign-in flow is not what is measured), the service started
as `f1 serve` does (uvicorn, default settings). Then every voter casts once: arriving at
`--rate` a second (Poisson arrivals: a busy evening), and again all at the same instant (a
burst). A refused voter (503) waits the Retry-After it was given and tries again. Prints the
cast latency p50/p95/p99 (from the first try to the receipt), refusals, and after the close
whether every ballot was counted once (target: p95 ≤ 200 ms at the evening's rate; counted
once in both).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import BIN, ROOT, free_port, wait  # noqa: E402

SECRET = "v" * 48


def prepare(url: str, voters: int) -> tuple[int, list[tuple[dict[str, Any], str]], dict[int, int]]:
    """The election, each voter's (ballot, token) and the votes each candidate will get."""
    from apps.tokens import sign
    from apps.voting import audience, create_election, describe, import_members, set_status
    from warehouse.db import make_engine
    from warehouse.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    positions = [
        {"title": "President", "candidates": [{"name": "Ana"}, {"name": "Bruno"}]},
        {"title": "Treasurer", "candidates": [{"name": "Carla"}, {"name": "Dan"}]},
    ]
    election = create_election(engine, "bench", "Bench election", "", positions)
    roll = "email,name\n" + "".join(f"parent{i}@example.org,P{i}\n" for i in range(voters))
    import_members(engine, "bench", election, roll)
    set_status(engine, "bench", election, "open")
    described = describe(engine, election)
    with engine.connect() as connection:
        from sqlalchemy import select

        from warehouse.schema import Member

        members = list(connection.scalars(select(Member.id).where(Member.election_id == election)))
    engine.dispose()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    rng = random.Random(1)
    expected: dict[int, int] = {}
    ballots = []
    for member in members:
        choices = []
        for position in described["positions"]:
            pick = rng.choice(position["candidates"])["id"]
            expected[pick] = expected.get(pick, 0) + 1
            choices.append({"position_id": position["id"], "candidate_id": pick})
        claims = {"sub": str(member), "aud": audience(election), "scope": "ballot", "exp": expires}
        ballots.append(({"choices": choices}, sign(claims, SECRET)))
    return election, ballots, expected


async def post(port: int, path: str, body: bytes, token: str) -> tuple[int, float]:
    """One POST on a connection of its own (a voter's browser): (status, Retry-After). A bare
    asyncio client: an HTTP library would spend more of the two cores than the server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    retry_after = 1.0
    while line := (await reader.readline()).strip():
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "retry-after":
            retry_after = float(value)
    await reader.read()
    writer.close()
    return status, retry_after


async def cast_all(
    port: int, election: int, ballots: list[tuple[dict[str, Any], str]], rate: float | None
) -> tuple[list[float], int, Counter[int]]:
    """Latencies (ms, first try to receipt), refusals, and the status counts."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    refusals = 0
    path = f"/api/v1/voting/elections/{election}/ballot"
    rng = random.Random(2)

    async def one(body: dict[str, Any], token: str, delay: float) -> None:
        nonlocal refusals
        await asyncio.sleep(delay)
        started = time.perf_counter()
        while True:
            status, retry_after = await post(port, path, json.dumps(body).encode(), token)
            if status != 503:
                break
            refusals += 1
            await asyncio.sleep(retry_after)
        statuses[status] += 1
        latencies.append((time.perf_counter() - started) * 1000)

    delays, at = [], 0.0
    for _ in ballots:
        delays.append(at)
        at += rng.expovariate(rate) if rate else 0.0
    await asyncio.gather(*(one(b, t, d) for (b, t), d in zip(ballots, delays, strict=True)))
    return latencies, refusals, statuses


def counted(url: str, election: int, expected: dict[int, int], voters: int) -> bool:
    from apps.voting import results, set_status
    from warehouse.db import make_engine

    engine = make_engine(url)
    set_status(engine, "bench", election, "closed", SECRET)
    tally = results(engine, "bench", election)
    engine.dispose()
    votes = {c["candidate_id"]: c["votes"] for p in tally["positions"] for c in p["candidates"]}
    return votes == expected and tally["ballots"] == voters


def run(url: str, home: Path, voters: int, rate: float | None) -> None:
    election, ballots, expected = prepare(url, voters)
    port = free_port()
    env = {**os.environ, "F1_DATABASE_URL": url, "F1_HOME": str(home), "F1_JWT_SECRET": SECRET,
           "F1_LOAD_MODELS": "false"}  # fmt: skip
    server = subprocess.Popen(
        [str(BIN / "f1"), "serve", "--port", str(port)],
        env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait(f"http://127.0.0.1:{port}/health")
        began = time.perf_counter()
        latencies, refusals, statuses = asyncio.run(cast_all(port, election, ballots, rate))
        took = time.perf_counter() - began
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    how = f"{rate:g} a second" if rate else "all at once"
    ok = counted(url, election, expected, voters)
    print(
        f"  {voters} voters, {how}: {took:.1f} s; cast p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"p99 {p99:.0f} ms; {refusals} refusals (503, retried); answers {dict(statuses)}; "
        f"every ballot counted once: {'yes' if ok else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        print(backend)
        for rate in (args.rate, None):
            with tempfile.TemporaryDirectory(prefix="f1-voting-") as scratch:
                home = Path(scratch)
                if backend == "sqlite":
                    run(f"sqlite:///{home / 'warehouse.db'}", home, args.voters, rate)
                    continue
                from sqlalchemy import create_engine, text

                name = f"f1_voting_bench_{os.getpid()}"
                admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
                    run(url, home, args.voters, rate)
                finally:
                    with admin.connect() as connection:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()


if __name__ == "__main__":
    main()
