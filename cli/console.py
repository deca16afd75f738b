"""Shared terminal output for the `f1` program: one console, logging, progress bars."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
errors = Console(stderr=True)


def setup_logging(verbose: bool) -> None:
    """Log to stderr through rich; INFO with --verbose, WARNING otherwise."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=errors, show_path=False)],
        force=True,
    )


@contextmanager
def stage_progress() -> Iterator[Progress]:
    """A progress display whose tasks are the stages of a long command."""
    with Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    ) as progress:
        yield progress


def fail(message: str, code: int = 1) -> None:
    """Print `message` as an error and leave with a non-zero exit code."""
    import typer

    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
