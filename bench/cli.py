"""How long the command line takes, as a user types it (targets: `f1 --help` ≤ 1 s,
`f1 predict` ≤ 5 s, `f1 models list` ≤ 3 s, an unknown round refused at once).

    python bench/cli.py [--runs 3] [--season 2024 --round 24]

Needs the configured stores with trained champions. Each command runs `runs` times in a fresh
process; prints the median and the slowest."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

F1 = str(Path(sys.executable).parent / "f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--season", type=int, default=2024)
    parser.add_argument("--round", type=int, default=24)
    args = parser.parse_args()
    commands = {
        "f1 --help": ([F1, "--help"], 1.0),
        "f1 predict (a race)": ([F1, "predict", str(args.season), str(args.round)], 5.0),
        "f1 predict (unknown round)": ([F1, "predict", str(args.season), "99"], 1.0),
        "f1 predict --stage foo": ([F1, "predict", str(args.season), "1", "--stage", "foo"], 1.0),
        "f1 models list": ([F1, "models", "list"], 3.0),
    }
    for label, (command, target) in commands.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        verdict = "met" if median <= target else "NOT met"
        print(
            f"{label:28} median {median:5.2f} s  slowest {max(times):5.2f} s  "
            f"(target ≤ {target:g} s: {verdict})"
        )


if __name__ == "__main__":
    main()
