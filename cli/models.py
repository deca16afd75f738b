"""`f1 backtest`: walk-forward evaluation of the ensemble against the baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import console, fail, progress_callback, warehouse_engine


def backtest(
    stage: Annotated[str, typer.Option(help="pre_quali or post_quali.")],
    first: Annotated[int, typer.Option("--from", help="First tested season.")] = 2014,
    last: Annotated[int, typer.Option("--to", help="Last tested season.")] = 2024,
    out: Annotated[
        Path,
        typer.Option(
            help="Report (JSON); plots are written beside it. Both are also published to the "
            "artifact store (F1_ARTIFACTS_URL: S3 or a folder) under reports/backtest/."
        ),
    ] = Path("report.json"),
    start: Annotated[int | None, typer.Option(help="First training season (default 1981).")] = None,
    develop: Annotated[
        bool,
        typer.Option(
            "--develop",
            help="Choose the served model instead: every candidate on the development window "
            "(2006–2013, whatever --from/--to say) and the rule's choice (pipelines/develop.py).",
        ),
    ] = False,
) -> None:
    """Train on the seasons before each tested season, forecast its races, score everything."""
    from rich.table import Table

    from feature_store.view import STAGES
    from pipelines.artifacts import publish
    from pipelines.backtest import START, log_to_mlflow, report, walk_forward, write_report
    from pipelines.training_data import labelled

    if stage not in STAGES:
        fail(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    if first > last:
        fail(f"--from {first} is after --to {last}")
    try:
        rows = labelled(warehouse_engine(), stage)
    except FileNotFoundError as error:
        fail(str(error))
    if develop:
        _develop(rows, stage, out, start or START)
        return
    with progress_callback() as progress:
        forecasts, model = walk_forward(rows, stage, first, last, start or START, progress)
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
    for url in publish(paths, f"reports/backtest/{stage}-{first}-{last}"):
        console.print(f"published {url}", soft_wrap=True)
    run_id = log_to_mlflow(result, paths, start or START)
    console.print(f"logged to MLflow as run {run_id}", soft_wrap=True)


def _develop(rows: Any, stage: str, out: Path, start: int) -> None:
    """`f1 backtest --develop`: the development table and the rule's choice."""
    import json

    from rich.table import Table

    from models.ensemble import SERVED
    from pipelines.develop import develop

    with progress_callback() as progress:
        result = develop(rows, stage, start=start, progress=progress)
    first, last = result["window"]
    table = Table("model", "top-1", "log loss", "Brier", "races", title=f"{stage} {first}–{last}")
    for name, m in result["table"].items():
        table.add_row(
            name, f"{m['top1']:.1%}", f"{m['log_loss']:.3f}", f"{m['brier']:.4f}", str(m["races"])
        )
    console.print(table)
    for pair in result["against_best"]:
        cell = pair["log_loss"]
        console.print(
            f"{pair['a']} − {pair['b']}: log loss {cell['diff']:+.3f} "
            f"[{cell['low']:+.3f}, {cell['high']:+.3f}], P({pair['a']} better) "
            f"{cell['p_better']:.2f}"
        )
    console.print(f"rule: {result['rule']}\nchosen: {result['chosen']} (served: {SERVED[stage]})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    console.print(f"wrote {out}", soft_wrap=True)


def train(
    stage: Annotated[str, typer.Option(help="pre_quali or post_quali.")],
    start: Annotated[int | None, typer.Option(help="First training season (default 1981).")] = None,
) -> None:
    """One training run: evaluate, fit on all seasons, log to MLflow, register as challenger."""
    from feature_store.view import STAGES
    from pipelines.backtest import START
    from pipelines.train import train as run_training

    if stage not in STAGES:
        fail(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    try:
        result = run_training(warehouse_engine(), stage, start or START)
    except FileNotFoundError as error:
        fail(str(error))
    console.print(
        f"{result.name} version {result.version} ({', '.join(result.aliases)}), "
        f"run {result.run_id}, {result.seconds:.0f}s",
        soft_wrap=True,
    )
    for key in ("validation_top1", "validation_log_loss", "validation_brier"):
        console.print(f"  {key}: {result.metrics[key]:.4f}")


def predict(
    year: Annotated[int, typer.Argument(help="Season.")],
    round_: Annotated[int, typer.Argument(metavar="ROUND", help="Round.")],
    stage: Annotated[str, typer.Option(help="pre_quali or post_quali.")] = "post_quali",
    model_alias: Annotated[str, typer.Option(help="Registry alias to use.")] = "champion",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Each driver's largest contributions to its probability."),
    ] = False,
) -> None:
    """Win probabilities of a race's entrants from the registered model."""
    import json

    from pipelines.predict import NoModel, predict_race

    try:
        answer = predict_race(warehouse_engine(), year, round_, stage, model_alias, explain)
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
    for row in answer["predictions"]:
        console.print(f"  {row['probability']:6.1%}  {row['driver_name']:<24} {row['team_id']}")
        for reason in row.get("explanation") or []:
            console.print(
                f"           {reason['contribution']:+.2f}  {reason['words']} "
                f"({reason['value']:.3g})",
                soft_wrap=True,
            )


app = typer.Typer(help="Registered models: versions, aliases, promotion and rollback.")


@app.command("list")
def list_models() -> None:
    """Every version of both registered models, with aliases and the champion's history."""
    from rich.table import Table

    from feature_store.view import STAGES
    from models.registry import model_name
    from pipelines.promote import history, versions

    engine = warehouse_engine()
    for stage in STAGES:
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
