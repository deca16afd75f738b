"""The `f1` program: every step of the platform, run by hand exactly as the DAGs run it."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli import backtests, bot, db, features, ingest, models, release, replay, service
from cli.console import console, setup_logging, warehouse_engine

app = typer.Typer(
    help="F1 race-winner prediction platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(ingest.app, name="ingest")
app.add_typer(features.app, name="features")
app.add_typer(models.app, name="models")
app.add_typer(service.users, name="users")
app.add_typer(service.apps, name="apps")
app.add_typer(bot.app, name="bot")
app.add_typer(release.app, name="release")
app.command(name="serve")(service.serve)
app.command(name="validate")(features.validate)
app.command(name="backtest")(backtests.backtest)
app.command(name="backtest-markets")(backtests.backtest_markets)
app.command(name="train")(models.train)
app.command(name="predict")(models.predict)
app.command(name="championship")(models.championship)
app.command(name="backtest-championship")(backtests.championship_backtest)
app.command(name="replay")(replay.replay)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """F1 race-winner prediction platform."""
    setup_logging(verbose)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Row count per warehouse table and the last race with results."""
    from rich.table import Table

    from warehouse.db import transaction
    from warehouse.status import warehouse_status

    engine = warehouse_engine()
    with transaction(engine) as session:
        report = warehouse_status(session)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table("table", "rows")
    for name, count in report["tables"].items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    last = report["last_race"]
    console.print(
        "last race: none"
        if last is None
        else f"last race: {last['season']} round {last['round']}, {last['name']}"
    )


@app.command()
def up(
    no_load: Annotated[bool, typer.Option(help="Skip loading the bundled history.")] = False,
    no_train: Annotated[
        bool,
        typer.Option(
            help="Leave the DAGs as they are: no unpausing, no first feature build, training "
            "and scoring runs."
        ),
    ] = False,
    distributed: Annotated[
        bool,
        typer.Option(
            help="Airflow's CeleryExecutor (Redis broker, two workers), PostgreSQL for every "
            "database and two service replicas sharing Redis (make up-distributed)."
        ),
    ] = False,
) -> None:
    """Migrate every store, load the bundled history, run the platform until Ctrl-C; unpause
    the F1 DAGs and run the first feature build, training and scoring as DAG runs when this
    home has no champions yet."""
    from cli.platform import run_platform

    raise typer.Exit(
        run_platform(load_history=not no_load, train=not no_train, distributed=distributed)
    )


@app.command()
def down(
    wait: Annotated[float, typer.Option(help="Seconds to wait for everything to stop.")] = 90,
) -> None:
    """Stop the platform `f1 up` (or `make up`) started, from any terminal: what Ctrl-C does."""
    from cli.platform import stop_platform

    raise typer.Exit(stop_platform(wait))
