"""Server time of the web app's pages on a cache hit (target: p95 ≤ 100 ms).

    python bench/web.py [--rounds 30] [--season 2024 --round 24 --driver hamilton --team red_bull]

Needs the configured stores with a trained champion (`f1 train`). Starts the service on a free
local port, asks each page once (the answers' cache, the ratings and the ELO index warm up),
then asks every page `rounds` times from one client and prints p50/p95/max per page. One client
on 127.0.0.1: the time is the server's (plus well under a millisecond of loopback)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import free_port, wait  # noqa: E402  (bench/serving.py)

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--season", type=int, default=2024)
    parser.add_argument("--round", type=int, default=24)
    parser.add_argument("--driver", default="hamilton")
    parser.add_argument("--team", default="red_bull")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "--factory", "serving.app:create_app", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env={**os.environ, "F1_AB_SHARE": "0"}, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait(f"{base}/ready")
        with httpx.Client(base_url=base, timeout=120) as client:
            recipes = client.get("/api/v1/recipes", params={"limit": 1}).json()["items"]
            pages = [
                "/",
                f"/season/{args.season}",
                f"/races/{args.season}/{args.round}",
                f"/drivers/{args.driver}",
                f"/teams/{args.team}",
                f"/rankings?season={args.season}",
                f"/championship/{args.season}",
                "/model",
                "/recipes",
                *([f"/recipes/{recipes[0]['slug']}"] if recipes else []),
                "/voting",
                "/signin",
                "/docs",
            ]
            print(f"{len(pages)} pages, warming up (first answers, ratings, ELO index)…")
            for page in pages:
                started = time.perf_counter()
                status = client.get(page).status_code
                print(
                    f"  first {page:32} {status}  {(time.perf_counter() - started) * 1000:8.1f} ms"
                )
            worst = 0.0
            print(f"{'page':36} {'p50':>8} {'p95':>8} {'max':>8}   ({args.rounds} rounds)")
            for page in pages:
                times = []
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    answer = client.get(page)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, (page, answer.status_code)
                ms = np.array(times)
                p95 = float(np.percentile(ms, 95))
                worst = max(worst, p95)
                print(f"{page:36} {np.percentile(ms, 50):8.1f} {p95:8.1f} {ms.max():8.1f} ms")
            print(f"worst page p95: {worst:.1f} ms (target ≤ 100 ms)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
