"""What `bench/load.py` runs beside the load, each in a process of its own so that its event
loop is not the load's: the probe (one ordinary user asking /health and a recipe every 50 ms)
and the attackers (slow bodies holding connections, repeated query parameters), and the
HTTP/1.1 answer reader they share with the load's clients."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

TIMEOUT_S = 10.0
HEALTH_EVERY_S = 0.05
PROBED = {"/health": "/health", "/recipes/1": "/api/v1/recipes/1"}
SLOW_BODIES = 32
SLOW_BYTE_EVERY_S = 5.0
REPEATERS = 4
REPEATER_GIVES_UP_S = 3.0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """The status and headers of one HTTP/1.1 answer, its body read (length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)
    }
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers


async def probe(port: int, stop: float) -> tuple[dict[str, list[float]], dict[str, int]]:
    """One ordinary user, from an address of its own, asking /health and /api/v1/recipes/1
    every 50 ms each: the latency of what it gets, and how often that is not a 200."""
    latencies: dict[str, list[float]] = {name: [] for name in PROBED}
    failures = dict.fromkeys(PROBED, 0)
    local = ("127.0.9.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
    while time.perf_counter() < stop:
        for name, path in PROBED.items():
            started = time.perf_counter()
            try:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                status, headers = await asyncio.wait_for(read_response(reader), TIMEOUT_S)
                latencies[name].append((time.perf_counter() - started) * 1000)
                if status != 200:
                    failures[name] += 1
                if headers.get("connection") == "close":
                    raise ConnectionResetError
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                failures[name] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        await asyncio.sleep(HEALTH_EVERY_S)
    writer.close()
    return latencies, failures


def _probe_process(port: int, seconds: float, out: Any) -> None:
    out.send(asyncio.run(probe(port, time.perf_counter() + seconds)))


class Attack:
    def __init__(self) -> None:
        self.status: Counter[str] = Counter()  # what each attack got: "slow 408", "repeat 422", …
        self.server_errors = 0


async def slow_body(port: int, index: int, stop: float, attack: Attack) -> None:
    """A login announcing 100,000 bytes that sends one every 5 s; when the server gives up on
    it, it says so (408) or drops it, and the attacker starts another."""
    local = (f"127.0.8.{index + 2}", 0)
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    while time.perf_counter() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        except OSError:
            await asyncio.sleep(1)
            continue
        writer.write(head)
        answer = asyncio.ensure_future(read_response(reader))
        try:
            while time.perf_counter() < stop and not answer.done():
                writer.write(b" ")
                await writer.drain()
                await asyncio.wait([answer], timeout=SLOW_BYTE_EVERY_S)
            if answer.done():
                status, _ = answer.result()
                attack.status[f"slow {status}"] += 1
                if status >= 500 and status != 503:
                    attack.server_errors += 1
        except (OSError, asyncio.IncompleteReadError):
            attack.status["slow dropped"] += 1
        finally:
            answer.cancel()
            writer.close()


async def repeater(port: int, index: int, stop: float, attack: Attack) -> None:
    """`GET /api/v1/recipes` with the tag repeated 500 times, then with 16 tags (every dietary
    tag twice, the most allowed) and a search no one made before, each dropped after 3 s
    without an answer: one request every 3 s per attacker, as the attack in issue 34 did."""
    local = (f"127.0.7.{index + 2}", 0)
    tags = ["vegetarian", "vegan", "gluten-free", "dairy-free", "nut-free", "egg-free",
            "pescatarian", "low-lactose"]  # fmt: skip
    every = "&".join(f"tag={t}" for t in tags * 2)
    turn = 0
    while time.perf_counter() < stop:
        queries = {"repeat": "&".join(["tag=vegan"] * 500), "16 tags": f"{every}&q=x{index}-{turn}"}
        name = list(queries)[turn % 2]
        turn += 1
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        except OSError:
            await asyncio.sleep(1)
            continue
        writer.write(
            f"GET /api/v1/recipes?{queries[name]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        )
        try:
            status, _ = await asyncio.wait_for(read_response(reader), REPEATER_GIVES_UP_S)
            attack.status[f"{name} {status}"] += 1
            if status >= 500 and status != 503:
                attack.server_errors += 1
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            attack.status[f"{name} abandoned"] += 1
        finally:
            writer.close()
        await asyncio.sleep(max(0.0, REPEATER_GIVES_UP_S - (time.perf_counter() - started)))


async def attackers(port: int, stop: float, attack: Attack) -> None:
    await asyncio.gather(
        *(slow_body(port, i, stop, attack) for i in range(SLOW_BODIES)),
        *(repeater(port, i, stop, attack) for i in range(REPEATERS)),
    )


def _attack_process(port: int, seconds: float, out: Any) -> None:
    attack = Attack()
    asyncio.run(attackers(port, time.perf_counter() + seconds, attack))
    out.send((dict(attack.status), attack.server_errors))
