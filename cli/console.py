"""Shared terminal output for the `f1` program: one console, logging, progress bars."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from spec import STAGES, TARGETS

if TYPE_CHECKING:
    from sqlalchemy import Engine

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


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with the time elapsed, for a step whose length is not known in advance."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        progress.add_task(description, total=None)
        yield


@contextmanager
def progress_callback() -> Iterator[Callable[[str, int, int], None]]:
    """A `progress(stage, done, total)` callback drawing one bar per stage."""
    with stage_progress() as progress:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield update


@contextmanager
def output_to(log: Path) -> Iterator[Console]:
    """Everything written to this process's stdout and stderr (libraries' noise, task logs)
    goes to `log`; the console yielded still writes to the terminal."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield Console(file=terminal)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            terminal.close()


@contextmanager
def libraries_to(log: Path) -> Iterator[None]:
    """Whatever libraries print (warnings, their logging, a subprocess's output) goes to `log`,
    while this program's `console` and `errors` keep the terminal."""
    with output_to(log) as terminal:
        before = console.file, errors.file
        console.file = errors.file = terminal.file
        try:
            yield
        finally:
            console.file, errors.file = before


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `message` as an error and leave with a non-zero exit code."""
    import typer

    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def known_stage(name: str) -> str:
    """`name` when the prediction spec declares that stage; otherwise leave with its error."""
    from spec import UnknownName, stage

    try:
        return stage(name).name
    except UnknownName as error:
        fail(str(error))


def known_target(name: str) -> str:
    """`name` when the prediction spec declares that target; otherwise leave with its error."""
    from spec import UnknownName, target

    try:
        return target(name).name
    except UnknownName as error:
        fail(str(error))


STAGE_HELP = " or ".join(STAGES.names) + "."
TARGET_HELP = " or ".join(TARGETS.names) + "."


def warehouse_engine() -> Engine:
    """The configured warehouse's engine, or a clear error when it is not migrated."""
    from warehouse.db import make_engine
    from warehouse.migrate import SchemaNotReady, require_head

    engine = make_engine()
    try:
        require_head(engine)
    except SchemaNotReady as error:
        fail(str(error))
    return engine
