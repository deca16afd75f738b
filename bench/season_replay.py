"""Times `f1 replay` (the platform's season backtest through the real DAGs) and prints what the
report says.

    .venv/bin/python bench/season_replay.py                   # 2024 rounds 18-24 (target ≤ 10 min)
    .venv/bin/python bench/season_replay.py --rounds 1-24     # the whole season (target ≤ 40 min)

Each run replays into a fresh folder: the first run of the platform (load the history before
the first round, fetch the calendar, train the first models), then every scheduled DAG run
(race calendar, Monday backstop, quarterly training) and what its assets trigger.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from spec import stage as spec_stage

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--season", type=int, default=2024)
    parser.add_argument("--rounds", default="18-24")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "f1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="f1-replay-") as scratch:
        home = Path(scratch) / "replay"
        started = time.perf_counter()
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "f1"),
                "replay",
                str(args.season),
                "--data",
                str(args.data),
                "--rounds",
                args.rounds,
                "--home",
                str(home),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if not (home / "report.json").exists():
            print(done.stdout[-3000:], done.stderr[-3000:])
            raise SystemExit(f"the replay wrote no report (exit {done.returncode})")
        report = json.loads((home / "report.json").read_text())
    by_dag: dict[str, list[float]] = defaultdict(list)
    for run in report["runs"]:
        by_dag[run["dag"]].append(run["seconds"])
    head = f"f1 replay {args.season} --rounds {args.rounds}"
    print(f"{head}: exit {done.returncode}, {wall / 60:.1f} min")
    print(f"  {len(report['runs'])} DAG runs; missing: {report['missing'] or 'none'}")
    for dag, seconds in sorted(by_dag.items()):
        total, most = sum(seconds), max(seconds)
        print(f"  {dag:<12} {len(seconds):>3} runs, {total:6.0f} s in all, {most:5.1f} s at most")
    trainings = report["trainings"]
    print(f"  trainings at {', '.join(t['at'][:10] for t in trainings)}")
    for stage, row in report["summary"].items():
        baseline = spec_stage(stage).baseline.label
        print(
            f"  {stage}: log loss {row['log_loss']:.3f} ({baseline} "
            f"{row['baseline_log_loss']:.3f}), Brier {row['brier']:.4f} "
            f"({row['baseline_brier']:.4f}), top-1 {row['top1']:.0%} "
            f"({row['baseline_top1']:.0%}) over {row['races']} races"
        )


if __name__ == "__main__":
    main()
