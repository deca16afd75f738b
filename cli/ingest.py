"""`f1 ingest`: bring F1 data into the warehouse (snapshot, live API, weather)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import console, fail, progress_callback, warehouse_engine

if TYPE_CHECKING:
    from pipelines.ingest.jolpica import JolpicaClient
    from pipelines.ingest.live import IngestReport
    from warehouse.upsert import UpsertCounts

app = typer.Typer(help="Load F1 data into the warehouse.", no_args_is_help=True)

Year = Annotated[int, typer.Argument(help="Season, e.g. 2024.", min=1950, max=2100)]
AsOf = Annotated[
    dt.datetime | None,
    typer.Option(
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"],
        help="When the run stands (UTC: a date, or a date and time); default now.",
    ),
]


def _print_counts(title: str, tables: dict[str, UpsertCounts]) -> None:
    from rich.table import Table

    from warehouse.upsert import UpsertCounts

    table = Table("table", "inserted", "updated", "unchanged", title=title)
    for name, counts in tables.items():
        table.add_row(name, f"{counts.inserted:,}", f"{counts.updated:,}", f"{counts.unchanged:,}")
    total = sum(tables.values(), UpsertCounts())
    table.add_row("[b]total", f"{total.inserted:,}", f"{total.updated:,}", f"{total.unchanged:,}")
    console.print(table)
    console.print(f"{total.changed:,} rows changed")


@contextmanager
def _api() -> Iterator[JolpicaClient]:
    """The F1 API client (F1_API_BASE_URL); API errors become a clear exit 1."""
    from pipelines.ingest.http import ApiError
    from pipelines.ingest.jolpica import JolpicaClient

    client = JolpicaClient.from_settings()
    try:
        yield client
    except ApiError as error:
        fail(f"{error}\nnothing of the failing round was written")
    finally:
        console.print(
            f"F1 API {client.http.base_url}: {client.http.stats.summary()}", soft_wrap=True
        )
        client.http.close()


def _report(report: IngestReport) -> None:
    rounds = ", ".join(map(str, report.rounds)) or "none"
    _print_counts(f"season {report.season}: rounds written {rounds}", report.tables)


@app.command()
def snapshot(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Folder of Ergast-layout CSV files (default: the bundled history)."),
    ] = None,
) -> None:
    """Load an Ergast-layout CSV snapshot: validated first, then upserted in one transaction."""
    from pipelines.snapshot import BUNDLED, SnapshotError, load_snapshot

    engine = warehouse_engine()
    with progress_callback() as progress:
        try:
            report = load_snapshot(engine, directory or BUNDLED, progress)
        except SnapshotError as error:
            fail(f"{error}\nnothing was written")
    _print_counts(str(report.directory), report.tables)
    console.print(f"loaded in {report.seconds:.1f}s")


@app.command()
def season(year: Year) -> None:
    """Everything the API has for a season: schedule, results, qualifying, sprints, standings."""
    from pipelines.ingest.live import ingest_season

    engine = warehouse_engine()
    with _api() as client, progress_callback() as progress:
        report = ingest_season(engine, client, year, progress)
    _report(report)


@app.command()
def race(
    year: Year,
    round_: Annotated[int, typer.Option("--round", "-r", help="Round number.", min=1)],
) -> None:
    """One round (results, qualifying, sprint, standings) with per-round requests."""
    from pipelines.ingest.live import ingest_round

    engine = warehouse_engine()
    with _api() as client, progress_callback() as progress:
        report = ingest_round(engine, client, year, round_, progress)
    if round_ not in report.rounds:
        console.print(f"the API has no results for {year} round {round_} yet")
    _report(report)


@app.command()
def qualifying(year: Year) -> None:
    """Qualifying (Q1–Q3) of every round of a season the API has."""
    from pipelines.ingest.live import ingest_qualifying

    engine = warehouse_engine()
    with _api() as client, progress_callback() as progress:
        report = ingest_qualifying(engine, client, year, progress)
    _report(report)


@app.command()
def new(
    as_of: AsOf = None,
) -> None:
    """What the scheduled DAG does: the results due by AS_OF (race start + 3 h) that the
    warehouse lacks, then the qualifying and sprint of the next race once published."""
    from pipelines.ingest.live import ingest_new
    from pipelines.ingest.sessions import ingest_sessions

    moment = as_of.replace(tzinfo=dt.UTC) if as_of else dt.datetime.now(dt.UTC)
    engine = warehouse_engine()
    with _api() as client, progress_callback() as progress:
        reports = ingest_new(engine, client, moment, progress)
        reports += ingest_sessions(engine, client, moment)
    for report in reports:
        _report(report)


@app.command()
def weather(
    year: Year,
    as_of: AsOf = None,
    historical: Annotated[
        bool,
        typer.Option(
            "--historical",
            help="Also the archived forecast of each past race since 2022 that has none (what "
            "the forecast said before the race: post_quali features for training).",
        ),
    ] = False,
) -> None:
    """Race-time weather from Open-Meteo: forecasts for the coming races, the observation of
    past ones (kept apart: features use forecasts only)."""
    from pipelines.ingest.http import ApiError
    from pipelines.ingest.weather import OpenMeteo, ingest_weather

    moment = as_of.replace(tzinfo=dt.UTC) if as_of else dt.datetime.now(dt.UTC)
    engine = warehouse_engine()
    meteo = OpenMeteo.from_settings()
    try:
        with progress_callback() as progress:
            report = ingest_weather(engine, meteo, year, moment, progress, historical=historical)
    except ApiError as error:
        fail(f"{error}\nno weather was written")
    finally:
        console.print(f"Open-Meteo: {meteo.requests} requests")
    _print_counts(f"weather {year}: {report.asked} races asked", {"weather": report.counts})
    if report.without:
        console.print(f"no weather values for rounds {report.without}: left without")


@app.command()
def validate(year: Year) -> None:
    """Compare the warehouse with the API for a season; exit 1 with a diff on a mismatch."""
    from pipelines.ingest.compare import compare_season

    engine = warehouse_engine()
    with _api() as client:
        differences = compare_season(engine, client, year)
    if differences:
        console.print(f"[red]season {year} differs from the API:[/]")
        for line in differences:
            console.print(f"  - {line}", soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"[green]season {year} matches the API[/]")
