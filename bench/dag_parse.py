"""How long each DAG file takes to parse, beyond Airflow's own import (target < 2 s each).

    python bench/dag_parse.py

Each file is parsed in a fresh interpreter (as the DAG processor does), after `airflow.sdk` is
imported, so the figure is the file's own cost. `tests/dags/test_dag_files.py` checks that
parsing imports nothing heavy; the time is measured here, not asserted in a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dags.test_dag_files import DAG_FILES, PARSE_PROBE  # noqa: E402

TARGET_S = 2.0


def main() -> None:
    slowest = 0.0
    for path in DAG_FILES:
        done = subprocess.run(
            [sys.executable, "-c", PARSE_PROBE, str(path)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
        slowest = max(slowest, seconds)
        print(f"{path.name:28} {seconds:6.3f} s", flush=True)
    verdict = "met" if slowest < TARGET_S else "MISSED"
    print(f"slowest {slowest:.3f} s (target < {TARGET_S:g} s: {verdict})")


if __name__ == "__main__":
    main()
