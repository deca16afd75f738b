"""`f1 ingest`: bring F1 data into the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.console import console, fail, stage_progress, warehouse_engine

app = typer.Typer(help="Load F1 data into the warehouse.", no_args_is_help=True)


@app.command()
def snapshot(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Folder of Ergast-layout CSV files (default: the bundled history)."),
    ] = None,
) -> None:
    """Load an Ergast-layout CSV snapshot: validated first, then upserted in one transaction."""
    from rich.progress import TaskID
    from rich.table import Table

    from pipelines.snapshot import BUNDLED, SnapshotError, load_snapshot

    engine = warehouse_engine()
    with stage_progress() as progress:
        tasks: dict[str, TaskID] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        try:
            report = load_snapshot(engine, directory or BUNDLED, on_progress)
        except SnapshotError as error:
            progress.stop()
            fail(f"{error}\nnothing was written")
            return
    table = Table("table", "inserted", "updated", "unchanged", title=str(report.directory))
    for name, counts in report.tables.items():
        table.add_row(name, f"{counts.inserted:,}", f"{counts.updated:,}", f"{counts.unchanged:,}")
    total = report.total
    table.add_row("[b]total", f"{total.inserted:,}", f"{total.updated:,}", f"{total.unchanged:,}")
    console.print(table)
    console.print(f"{total.changed:,} rows changed in {report.seconds:.1f}s")
