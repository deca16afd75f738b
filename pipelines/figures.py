"""Saving the plots the batch steps draw (backtests, training runs, replays)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save(figure: Any, path: Path) -> Path:
    """`figure` laid out, written to `path` (PNG at 110 dpi) and closed; `path`."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
