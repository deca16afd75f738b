"""`f1 train`, `f1 predict`, `f1 championship` and `f1 models`: training runs, a race's
probabilities, the title odds, and the registered models' versions and aliases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.console import (
    STAGE_HELP,
    TARGET_HELP,
    console,
    fail,
    known_stage,
    known_target,
    warehouse_engine,
)


def train(
    stage: Annotated[str, typer.Option(help=STAGE_HELP)],
    start: Annotated[int | None, typer.Option(help="First training season (default 1981).")] = None,
    target: Annotated[
        str, typer.Option(help=f"all (default: every target of the spec), {TARGET_HELP}")
    ] = "all",
) -> None:
    """Training runs of the stage's models (every target unless --target): evaluate, fit on
    all seasons, log to MLflow, register as challenger (the first version: champion)."""
    from pipelines.backtest import START
    from pipelines.targets import trainer
    from spec import TARGETS
    from spec import target as spec_target

    known_stage(stage)
    targets = TARGETS.names if target == "all" else (known_target(target),)
    for name in targets:
        try:
            result = trainer(name)(warehouse_engine(), stage, start or START)
        except FileNotFoundError as error:
            fail(str(error))
        console.print(
            f"{result.name} version {result.version} ({', '.join(result.aliases)}), "
            f"run {result.run_id}, {result.seconds:.0f}s",
            soft_wrap=True,
        )
        for metric in spec_target(name).metrics:  # the metrics the target is judged on
            key = f"validation_{metric}"
            if key in result.metrics:
                console.print(f"  {key}: {result.metrics[key]:.4f}")


def _known_race(engine: Any, season: int, round_: int) -> None:
    """Fail at once, naming the season's rounds, when the warehouse has no such race."""
    from sqlalchemy import func, select

    from warehouse.schema import Race

    with engine.connect() as connection:
        found = connection.execute(
            select(func.count()).where(Race.season == season, Race.round == round_)
        ).scalar()
        if found:
            return
        last = connection.execute(select(func.max(Race.round)).where(Race.season == season))
        rounds = last.scalar()
    held = f"{season} has rounds 1–{rounds}" if rounds else f"it holds no race of {season}"
    fail(f"race {season} round {round_} is not in the warehouse: {held}")


def predict(
    year: Annotated[int, typer.Argument(help="Season.")],
    round_: Annotated[int, typer.Argument(metavar="ROUND", help="Round.")],
    stage: Annotated[str, typer.Option(help=STAGE_HELP)] = "post_quali",
    model_alias: Annotated[str, typer.Option(help="Registry alias to use.")] = "champion",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Each driver's largest contributions to its probability."),
    ] = False,
    markets: Annotated[
        bool,
        typer.Option(
            "--markets",
            help="Every market: podium, top 6, points, DNF, expected points, teammate "
            "head-to-head (the finishing-order model with the same alias).",
        ),
    ] = False,
) -> None:
    """Win probabilities of a race's entrants from the registered model."""
    import json

    known_stage(stage)
    engine = warehouse_engine()
    _known_race(engine, year, round_)  # before the seconds a model takes to load
    from pipelines.predict import NoModel, predict_race

    try:
        answer = predict_race(engine, year, round_, stage, model_alias, explain, markets)
    except (NoModel, LookupError, ValueError) as error:
        fail(str(error))
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    race, model = answer["race"], answer["model"]
    console.print(
        f"{race['season']} round {race['round']} · {race['name']} · {stage} · "
        f"{model['name']} v{model['version']} @{model['alias']}",
        soft_wrap=True,
    )
    if markets:
        _print_markets(answer)
        return
    for row in answer["predictions"]:
        console.print(f"  {row['probability']:6.1%}  {row['driver_name']:<24} {row['team_id']}")
        for reason in row.get("explanation") or []:
            console.print(
                f"           {reason['contribution']:+.2f}  {reason['words']} "
                f"({reason['value']:.3g})",
                soft_wrap=True,
            )


def championship(
    season: Annotated[int, typer.Argument(help="Season.")],
    after: Annotated[
        int | None, typer.Option("--after", help="As of this round (default: the last run).")
    ] = None,
    model_alias: Annotated[str, typer.Option(help="Registry alias to use.")] = "champion",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    top: Annotated[int, typer.Option(help="Rows to show per table.")] = 10,
    store: Annotated[
        bool,
        typer.Option(
            "--store", help="Store the odds as the service serves them (GET /championship)."
        ),
    ] = False,
) -> None:
    """Drivers' and constructors' title odds: the rest of the season simulated 10,000 times."""
    import json

    from rich.table import Table

    from pipelines.championship import FIRST, SeasonOver, championship_odds
    from pipelines.markets import store_odds
    from pipelines.predict import NoModel, registered

    engine = warehouse_engine()
    try:
        winner = registered(FIRST, model_alias)
        order = registered(FIRST, model_alias, "order")
        answer = championship_odds(engine, season, after, winner, order)
    except (NoModel, SeasonOver, LookupError, ValueError) as error:
        fail(str(error))
    if store:
        rows = store_odds(engine, answer)
        console.print(f"stored {rows} rows: {season} after round {answer['after_round']}")
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    for kind in ("drivers", "constructors"):
        table = Table(kind[:-1], "P(title)", "expected points",
                      title=f"{season} after round {answer['after_round']}: {kind}")  # fmt: skip
        for row in answer[kind][:top]:
            table.add_row(row["id"], f"{row['p_title']:.1%}", f"{row['expected_points']:.1f}")
        console.print(table)


def _print_markets(answer: dict[str, Any]) -> None:
    from rich.table import Table

    from spec import race_markets

    order = answer["order_model"]
    title = f"markets · {order['name']} v{order['version']}"
    shown = [m for m in race_markets() if m.in_card]
    table = Table("driver", "team", "win", *(m.column for m in shown), "exp. pts", title=title)
    for row in answer["predictions"]:
        m = row["markets"]
        table.add_row(
            row["driver_name"], row["team_id"], f"{row['probability']:.1%}",
            *("—" if m[k.column] is None else f"{m[k.column]:.1%}" for k in shown),
            f"{m['expected_points']:.1f}",
        )  # fmt: skip
    console.print(table)


app = typer.Typer(help="Registered models: versions, aliases, promotion and rollback.")


@app.command("list")
def list_models() -> None:
    """Every version of both registered models, with aliases and the champion's history."""
    from rich.table import Table

    from models.registry import model_name
    from pipelines.promote import history, versions
    from spec import STAGES

    engine = warehouse_engine()
    for stage in STAGES.names:
        name = model_name(stage)
        table = Table("version", "aliases", "created", "validation log loss", "run", title=name)
        for row in versions(name):
            table.add_row(
                row["version"],
                ", ".join(row["aliases"]),
                row["created"],
                f"{row['log_loss']:.3f}" if row["log_loss"] is not None else "",
                row["run_id"],
            )
        console.print(table)
        for event in history(engine, name):
            console.print(
                f"  {event.created_at:%Y-%m-%d %H:%M} {event.action:<8} "
                f"v{event.previous_version or '-'} → v{event.version} by {event.actor}: "
                f"{event.reason}",
                soft_wrap=True,
            )


@app.command("promote")
def promote_model(
    name: Annotated[str, typer.Argument(help="Registered model, e.g. f1_winner_post_quali.")],
    version: Annotated[str, typer.Argument(help="The version to make champion.")],
    reason: Annotated[str, typer.Option(help="Why (recorded with the move).")] = "by hand",
) -> None:
    """Make VERSION the champion of NAME (recorded in MLflow and the warehouse)."""
    import getpass

    from pipelines.promote import PromotionError, promote

    try:
        event = promote(warehouse_engine(), name, version, f"cli:{getpass.getuser()}", reason)
    except PromotionError as error:
        fail(str(error))
    console.print(f"{name}: champion v{event.previous_version or '-'} → v{event.version}")


@app.command("rollback")
def rollback_model(
    name: Annotated[str, typer.Argument(help="Registered model, e.g. f1_winner_post_quali.")],
) -> None:
    """Bring back NAME's previous champion."""
    import getpass

    from pipelines.promote import PromotionError, rollback

    try:
        event = rollback(warehouse_engine(), name, f"cli:{getpass.getuser()}")
    except PromotionError as error:
        fail(str(error))
    console.print(f"{name}: champion v{event.previous_version} → v{event.version} (rolled back)")
