"""The era openers' table `f1 backtest` prints (it crashed on every report with a section)."""

from __future__ import annotations

from rich.console import Console

from cli.backtests import _era_table


def _cell(frozen: float, grid: float, diff: dict[str, float] | None) -> dict:
    names = {"frozen": frozen, "online": frozen - 0.01, "uniform": 3.0, "pole": 2.0, "grid": grid}
    return {
        "races": 11,
        "metrics": {n: {"log_loss": v, "brier": v / 50} for n, v in names.items()},
        "comparisons": [
            {"a": "frozen", "b": "grid", "races": 11 if diff else 0,
             **({"log_loss": diff, "brier": {k: v / 10 for k, v in diff.items()}} if diff else {})}
        ],
    }  # fmt: skip


def test_the_era_openers_table_shows_each_window_against_the_stage_baseline() -> None:
    section = {
        "stage": "post_quali",
        "baselines": ["uniform", "pole", "grid"],
        "seasons": {
            "2009": {
                "first_11": _cell(1.832, 1.581, {"diff": 0.251, "low": 0.1, "high": 0.4}),
                "season": _cell(1.7, 1.6, None),  # no race in common: no interval
            }
        },
    }
    console = Console(width=250, record=True)
    console.print(_era_table(section))
    text = console.export_text()
    assert "frozen − grid: log loss [95%]" in text
    first, season = (line for line in text.splitlines() if line.startswith("│ 2009"))
    assert "1.832 / 0.0366" in first and "1.581 / 0.0316" in first
    assert "+0.251 [+0.100, +0.400]" in first and "+0.0251 [+0.0100, +0.0400]" in first
    assert season.count("–") == 2
