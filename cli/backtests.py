"""The walk-forward backtests: `f1 backtest` (the winner models and the era openers against the
baselines), `f1 backtest-markets` (the finishing-order distribution, market by market) and
`f1 backtest-championship` (title odds round by round)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.console import (
    STAGE_HELP,
    console,
    fail,
    known_stage,
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
