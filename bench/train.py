"""Times one training run per stage on the full history (1981–2024), MLflow logging included.

    F1_HOME=.local .venv/bin/python bench/train.py   # needs the published feature store

Uses a temporary MLflow store. Target: one stage in ≤ 60 s.
"""

from __future__ import annotations

import logging
import os
import tempfile

import spec
from pipelines.train import train
from warehouse.db import make_engine


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch}/mlflow.db"
        engine = make_engine()
        for stage in spec.STAGES.names:
            result = train(engine, stage)
            print(
                f"{stage:10} {result.seconds:5.1f} s  (version {result.version}, validation "
                f"top-1 {result.metrics['validation_top1']:.3f}, log loss "
                f"{result.metrics['validation_log_loss']:.3f})"
            )


if __name__ == "__main__":
    main()
