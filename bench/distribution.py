"""Times the finishing-order distribution of one race and a season's championship odds.

    .venv/bin/python bench/distribution.py [--runs 30]

- one race: 20 entrants, 20,000 simulated orders (strengths fitted to P(win), every position,
  DNF and the head-to-head matrix) — target ≤ 50 ms once its features are loaded;
- the championship: 10,000 simulated seasons of 24 remaining races (6 with a sprint) over
  20 drivers and 10 teams — target ≤ 3 s.
Prints the median and the slowest of `--runs` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.championship import RemainingRace, simulate  # noqa: E402
from models.distribution import distribution  # noqa: E402
from spec.points import points_system  # noqa: E402


def _timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.full(20, 0.5))
    q = rng.uniform(0.03, 0.25, 20)
    system = points_system(2024)
    race = _timed(lambda: distribution(p, q, system, alpha=1.0), args.runs)
    print(f"one race (20 entrants, 20,000 orders): median {statistics.median(race) * 1000:.1f} ms,"
          f" slowest {max(race) * 1000:.1f} ms (target ≤ 50 ms)")  # fmt: skip
    drivers = [f"d{i}" for i in range(20)]
    teams = [f"t{i // 2}" for i in range(20)]
    races = [RemainingRace(r, drivers, teams, p, q, sprint=r % 4 == 0) for r in range(1, 25)]
    standings = dict.fromkeys(drivers, 0.0)
    crews = dict.fromkeys(teams, 0.0)
    season = _timed(lambda: simulate(standings, crews, races, system, 1.0), max(3, args.runs // 10))
    median, slowest = statistics.median(season), max(season)
    print(f"championship (10,000 seasons, 24 races, 6 sprints): median {median:.2f} s, "
          f"slowest {slowest:.2f} s (target ≤ 3 s)")  # fmt: skip


if __name__ == "__main__":
    main()
