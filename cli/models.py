"""`f1 backtest`: walk-forward evaluation of the ensemble against the baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import (
    STAGE_HELP,
    TARGET_HELP,
    console,
    fail,
    known_stage,
    known_target,
    progress_callback,
    warehouse_engine,
)


def backtest(
    stage: Annotated[str, typer.Option(help=STAGE_HELP)],
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

    from pipelines.backtest import START, log_to_mlflow, report, walk_forward, write_report
    from pipelines.era_openers import era_openers, write_plot
    from pipelines.training_data import labelled
    from warehouse.artifacts import publish

    known_stage(stage)
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
        result["era_openers"] = era_openers(rows, stage, start or START, progress)
    paths = [*write_report(result, model, out), *write_plot(result, out)]
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
    console.print(_era_table(result["era_openers"]))
    for path in paths:
        console.print(f"wrote {path}", soft_wrap=True)
    for url in publish(paths, f"reports/backtest/{stage}-{first}-{last}"):
        console.print(f"published {url}", soft_wrap=True)
    run_id = log_to_mlflow(result, paths, start or START)
    console.print(f"logged to MLflow as run {run_id}", soft_wrap=True)


def _era_table(section: dict[str, Any]) -> Any:
    """The era openers as a table: log loss / Brier of each variant and baseline, and the
    frozen model against the first baseline with its 95% interval."""
    from rich.table import Table

    from spec import stage as spec_stage

    first = spec_stage(section["stage"]).baseline.rule
    names = ["frozen", "online", *section["baselines"]]
    table = Table(
        "opener",
        "races",
        *names,
        f"frozen − {first}: log loss [95%]",
        "Brier [95%]",
        title=f"Era openers, {section['stage']} (log loss / Brier; trained on earlier seasons)",
    )
    for season, windows in section["seasons"].items():
        for window, cell in windows.items():
            pair = next(c for c in cell["comparisons"] if c["a"] == "frozen" and c["b"] == first)
            table.add_row(
                f"{season} {window.replace('_', ' ')}",
                str(cell["races"]),
                *(
                    f"{cell['metrics'][n]['log_loss']:.3f} / {cell['metrics'][n]['brier']:.4f}"
                    for n in names
                ),  # fmt: skip
                # no race in common: no interval
                "{diff:+.3f} [{low:+.3f}, {high:+.3f}]".format(**pair["log_loss"])
                if "log_loss" in pair
                else "–",
                "{diff:+.4f} [{low:+.4f}, {high:+.4f}]".format(**pair["brier"])
                if "brier" in pair
                else "–",
            )
    return table


def backtest_markets(
    stage: Annotated[str | None, typer.Option(help=f"{STAGE_HELP[:-1]} (default: all).")] = None,
    first: Annotated[int, typer.Option("--from", help="First tested season.")] = 2014,
    last: Annotated[int, typer.Option("--to", help="Last tested season.")] = 2024,
    out: Annotated[
        Path,
        typer.Option(help="Report (JSON); plots beside it; both published under reports/markets/."),
    ] = Path("markets.json"),
    develop: Annotated[
        bool,
        typer.Option(
            "--develop",
            help="Choose α (the placing temperature) instead: each candidate on 2006–2013.",
        ),
    ] = False,
) -> None:
    """Walk-forward backtest of the finishing-order distribution: every market (win, podium,
    top 6, points, DNF), positions (RPS) and teammate head-to-heads, against the baselines."""
    import json

    from rich.table import Table

    from pipelines.order_backtest import develop as choose
    from pipelines.order_backtest import report, scored_columns, walk_forward, write_report
    from pipelines.training_data import labelled
    from spec import STAGES
    from spec import stage as spec_stage
    from warehouse.artifacts import publish

    if first > last:
        fail(f"--from {first} is after --to {last}")
    stages = [known_stage(stage)] if stage else list(STAGES.names)
    engine = warehouse_engine()
    results = []
    for name in stages:
        try:
            rows = labelled(engine, name)
        except FileNotFoundError as error:
            fail(str(error))
        with progress_callback() as progress:
            if develop:
                result = choose(rows, name, progress)
                console.print(
                    f"{name}: mean RPS by α "
                    + ", ".join(f"{a}: {m['rps']:.4f}" for a, m in result["alphas"].items())
                    + f"; chosen α = {result['chosen']}"
                )
                results.append(result)
                continue
            alpha = spec_stage(name).model.alpha
            scored = walk_forward(rows, name, first, last, (alpha,), progress)[alpha]
        result = report(scored, name, alpha)
        results.append(result)
        markets = scored_columns()
        table = Table("forecaster", *[f"{m} LL" for m in markets], "RPS", "h2h LL", "races",
                      title=f"{name} {first}–{last}: log loss per market")  # fmt: skip
        for forecaster, m in result["overall"].items():
            table.add_row(
                forecaster,
                *[f"{m[f'{k}_log_loss']:.4f}" for k in markets],
                f"{m['rps']:.4f}",
                f"{m['h2h_log_loss']:.4f}",
                str(int(m["races"])),
            )
        console.print(table)
        briers = Table("forecaster", *[f"{m} Brier" for m in markets], title="Brier per market")
        for forecaster, m in result["overall"].items():
            briers.add_row(forecaster, *[f"{m[f'{k}_brier']:.4f}" for k in markets])
        console.print(briers)
    if develop:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        console.print(f"wrote {out}", soft_wrap=True)
        return
    paths = write_report(results, out)
    for path in paths:
        console.print(f"wrote {path}", soft_wrap=True)
    for url in publish(paths, f"reports/markets/{first}-{last}"):
        console.print(f"published {url}", soft_wrap=True)


def _develop(rows: Any, stage: str, out: Path, start: int) -> None:
    """`f1 backtest --develop`: the development table and the rule's choice."""
    import json

    from rich.table import Table

    from pipelines.develop import develop
    from spec import stage as spec_stage

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
    served = spec_stage(stage).model.served
    console.print(f"rule: {result['rule']}\nchosen: {result['chosen']} (served: {served})")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    console.print(f"wrote {out}", soft_wrap=True)


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
    from spec import TARGETS

    known_stage(stage)
    targets = TARGETS.names if target == "all" else (known_target(target),)
    for name in targets:
        try:
            if name == "winner":
                from pipelines.train import train as run_training

                result = run_training(warehouse_engine(), stage, start or START)
                keys = ("validation_top1", "validation_log_loss", "validation_brier")
            else:
                from pipelines.train_order import train_order

                result = train_order(warehouse_engine(), stage, start or START)
                keys = ("validation_rps", "validation_podium_log_loss", "validation_dnf_log_loss")
        except FileNotFoundError as error:
            fail(str(error))
        console.print(
            f"{result.name} version {result.version} ({', '.join(result.aliases)}), "
            f"run {result.run_id}, {result.seconds:.0f}s",
            soft_wrap=True,
        )
        for key in keys:
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


def championship_backtest(
    first: Annotated[int, typer.Option("--from", help="First season.")] = 2010,
    last: Annotated[int, typer.Option("--to", help="Last season.")] = 2024,
    out: Annotated[Path, typer.Option(help="Report (JSON); the plot beside it.")] = Path(
        "championship.json"
    ),
    seasons: Annotated[int, typer.Option(help="Simulated seasons per round.")] = 10_000,
) -> None:
    """P(title) of each season's eventual champions after every round, models fitted on
    earlier seasons only."""
    import json

    from rich.table import Table

    from pipelines.championship import FIRST, backtest, plot_backtest
    from pipelines.training_data import labelled
    from warehouse.artifacts import publish

    engine = warehouse_engine()
    try:
        rows = labelled(engine, FIRST)
    except FileNotFoundError as error:
        fail(str(error))
    with progress_callback() as progress:
        results = backtest(engine, rows, first, last, seasons, progress)
    table = Table("season", "champion", "P after ¼", "½", "¾", "constructor", "P after ½",
                  title="P(title) of the eventual champions")  # fmt: skip
    for season in sorted({row["season"] for row in results}):
        of = [row for row in results if row["season"] == season]
        table.add_row(str(season), of[0]["champion"], _at(of, 0.25, "p_champion"),
                      _at(of, 0.5, "p_champion"), _at(of, 0.75, "p_champion"),
                      of[0]["constructor"], _at(of, 0.5, "p_constructor"))  # fmt: skip
    console.print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    paths = [out, plot_backtest(results, out.with_suffix(".png"))]
    for path in paths:
        console.print(f"wrote {path}", soft_wrap=True)
    for url in publish(paths, f"reports/championship/{first}-{last}"):
        console.print(f"published {url}", soft_wrap=True)


def _at(rows: list[dict[str, Any]], share: float, key: str) -> str:
    """`key` of the row nearest `share` of the season run, as a percentage."""
    row = min(rows, key=lambda r: abs(r["after_round"] / r["rounds"] - share))
    return f"{row[key]:.0%}"


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
