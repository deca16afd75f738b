"""`f1 backtest`: walk-forward evaluation of the ensemble against the baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, fail, stage_progress, warehouse_engine


def backtest(
    stage: Annotated[str, typer.Option(help="pre_quali or post_quali.")],
    first: Annotated[int, typer.Option("--from", help="First tested season.")] = 2014,
    last: Annotated[int, typer.Option("--to", help="Last tested season.")] = 2024,
    out: Annotated[Path, typer.Option(help="Report (JSON); plots are written beside it.")] = Path(
        "report.json"
    ),
    start: Annotated[int | None, typer.Option(help="First training season (default 1981).")] = None,
) -> None:
    """Train on the seasons before each tested season, forecast its races, score everything."""
    from rich.progress import TaskID
    from rich.table import Table

    from feature_store.view import STAGES
    from pipelines.backtest import START, report, walk_forward, write_report
    from pipelines.training_data import labelled

    if stage not in STAGES:
        fail(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    if first > last:
        fail(f"--from {first} is after --to {last}")
    try:
        rows = labelled(warehouse_engine(), stage)
    except FileNotFoundError as error:
        fail(str(error))
    with stage_progress() as progress:
        task: TaskID = progress.add_task("season", total=last - first + 1)
        forecasts, model = walk_forward(
            rows,
            stage,
            first,
            last,
            start or START,
            lambda _s, done, total: progress.update(task, completed=done, total=total),
        )
    result = report(forecasts, stage)
    paths = write_report(result, model, out)
    table = Table(
        "model",
        "top-1",
        "top-3",
        "log loss",
        "Brier",
        "ECE",
        "races",
        title=f"{stage} {first}–{last} (training from {start or START})",
    )
    for name, m in result["overall"].items():
        table.add_row(
            name,
            f"{m['top1']:.1%}",
            f"{m['top3']:.1%}",
            f"{m['log_loss']:.3f}",
            f"{m['brier']:.4f}",
            f"{m['ece']:.4f}",
            str(m["races"]),
        )
    console.print(table)
    for path in paths:
        console.print(f"wrote {path}", soft_wrap=True)
