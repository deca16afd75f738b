"""`f1 replay SEASON`: the platform's own season backtest, through the real DAGs on a
simulated clock against a local F1 API and a local OpenF1 (practice) that reveal each session
after it happened."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.console import console, errors, fail, output_to
from spec import STAGES
from spec import stage as spec_stage

if TYPE_CHECKING:
    from rich.console import Console

    from replay.season import ReplaySeason


def _rounds(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    first, _, last = text.partition("-")
    try:
        return int(first), int(last or first)
    except ValueError:
        fail(f"--rounds {text!r} is not a range like 18-24")


def replay(
    season: Annotated[int, typer.Argument(help="The season to replay.")],
    data: Annotated[
        list[Path],
        typer.Option(
            "--data",
            help="Ergast-layout CSV folder (repeat it: a later folder adds to and overrides "
            "an earlier one).",
            exists=True,
            file_okay=False,
        ),
    ],
    rounds: Annotated[
        str | None, typer.Option(help="Only rounds A-B (the warehouse starts with those before A).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Report (JSON; plots beside it). Default: HOME/report.json.")
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(help="Where the replay keeps its stores. Default: $F1_HOME/replays/…"),
    ] = None,
    weather_url: Annotated[
        str | None, typer.Option(help="An Open-Meteo-compatible server (no weather without).")
    ] = None,
) -> None:
    """Replay a season through the real DAGs on a simulated clock; exit 1 when a race lacks a
    stage's prediction inside its window (or a run failed)."""
    from replay.ergast import JolpicaApi
    from replay.openf1 import OpenF1Api
    from replay.season import Clock, ReplaySeason
    from replay.server import HttpServer, json_handler
    from replay.workspace import enter, replay_env
    from spec.settings import WarehouseSettings

    try:
        config = ReplaySeason.load(list(data), season, _rounds(rounds))
    except (ValueError, FileNotFoundError) as error:
        fail(str(error))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    workspace = (home or WarehouseSettings().f1_home / "replays" / f"{season}-{stamp}").resolve()
    if (workspace / "warehouse.db").exists():
        fail(f"{workspace} already holds a replay: give another --home")
    clock = Clock(config.start)
    started = time.perf_counter()
    practice = OpenF1Api(config.openf1_data(), config.practice_revealed(clock))
    with (
        HttpServer(json_handler(JolpicaApi(config.api_data(), config.visible(clock)))) as api,
        HttpServer(json_handler(practice)) as openf1,
    ):
        env = replay_env(workspace, api.url, weather_url, openf1.url)
        enter(env)
        console.print(
            f"replaying {season} rounds {config.first}–{config.last} from "
            f"{config.start:%Y-%m-%d %H:%M} to {config.end:%Y-%m-%d %H:%M} UTC (simulated); "
            f"stores and logs in {workspace}",
            soft_wrap=True,
        )
        _prepare(workspace)
        with output_to(workspace / "logs" / "replay.log") as terminal:
            records = _play(config, clock, workspace, terminal)
    seconds = time.perf_counter() - started
    code = _report(config, records, workspace, out or workspace / "report.json", seconds, data)
    raise typer.Exit(code)


def _prepare(workspace: Path) -> None:
    """Migrate the replay's warehouse and Airflow database."""
    from warehouse.db import make_engine
    from warehouse.migrate import upgrade

    engine = make_engine()
    upgrade(engine)
    engine.dispose()
    log = workspace / "logs" / "airflow-db.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with console.status("migrating the replay's Airflow database"), log.open("w") as handle:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        fail(f"airflow db migrate failed; see {log}")


def _play(config: ReplaySeason, clock: Any, workspace: Path, terminal: Console) -> list[Any]:
    """Run the season with one progress bar per weekend."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.weekend import weekend_actions
    from plugins.replay import SimulatedScheduler

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=terminal,
    ) as progress:
        bars, moments = {}, {}
        for weekend in config.played:
            actions = weekend_actions(weekend)
            bars[weekend.round] = progress.add_task(
                f"R{weekend.round:<2} {weekend.name[:24]:<24}", total=len(actions)
            )
            moments[weekend.round] = {a.at: a.kind for a in actions}
        label = {r: progress.tasks[bars[r]].description for r in bars}

        def on_run(dag_id: str, when: dt.datetime) -> None:
            current = next(
                (
                    w.round
                    for w in config.played
                    if when <= w.race_start + dt.timedelta(hours=3, minutes=1)
                ),
                config.played[-1].round,
            )
            progress.update(
                bars[current],
                description=f"{label[current]} {when:%a %d %b %H:%M} {dag_id:<11}",
            )
            if dag_id == "f1_ingest" and when in moments[current]:
                progress.advance(bars[current])

        scheduler = SimulatedScheduler(on_run=on_run, set_clock=clock.set)
        records = scheduler.play(config.start, config.end, config.history(workspace / "history"))
        for round_, bar in bars.items():
            progress.update(bar, description=label[round_])
    return records


def _report(
    config: ReplaySeason,
    records: list[Any],
    workspace: Path,
    out: Path,
    seconds: float,
    data: list[Path],
) -> int:
    """Write the report, plots and MLflow run; print the table; the exit code."""
    from rich.table import Table

    from replay.report import Run, missing, model_moves, plot, race_reports, summary
    from warehouse.db import make_engine

    engine = make_engine()
    runs = [Run(r.dag_id, r.at, r.trigger, r.state, r.seconds, r.started, r.ended) for r in records]
    races = race_reports(engine, config.season, (config.first, config.last), config.start)
    report: dict[str, Any] = {
        "season": config.season,
        "rounds": [config.first, config.last],
        "data": [str(d.resolve()) for d in data],
        "clock": {"start": config.start.isoformat(), "end": config.end.isoformat()},
        "seconds": round(seconds, 1),
        "summary": summary(races),
        "races": races,
        "models": model_moves(engine, runs),
        "trainings": [
            {
                "at": r.at.isoformat(),
                "seconds": round(r.seconds, 1),
                "models": [e[1] for e in r.events],
            }
            for r in records
            if r.dag_id == "f1_train" and r.events
        ],
        "runs": [
            {
                "dag": r.dag_id,
                "at": r.at.isoformat(),
                "trigger": r.trigger,
                "state": r.state,
                "seconds": round(r.seconds, 2),
                "failed_tasks": r.failed_tasks,
            }
            for r in records
        ],
        "missing": missing(races, config.season),
        "failed_runs": [
            f"{r.dag_id} at {r.at:%Y-%m-%d %H:%M}" for r in records if r.state != "success"
        ],
    }
    engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    paths = [out, *plot(races, config.season, out.parent)]
    report["mlflow_run"] = _log_to_mlflow(report, paths)
    out.write_text(json.dumps(report, indent=2, default=str))
    last = STAGES[-1]  # the latest stage's scores: the replay's headline
    table = Table(
        "round", "race", *(f"{s.name} stored" for s in STAGES), f"{last.name} log loss",
        last.baseline.rule, "top-1",
        title=f"Replay of {config.season}, rounds {config.first}–{config.last}",
    )  # fmt: skip
    for race in races:
        latest = race["stages"][last.name]
        scores, grid = latest.get("scores") or {}, latest.get("baseline") or {}
        table.add_row(
            str(race["round"]),
            race["name"],
            *(_when(race["stages"][s.name]) for s in STAGES),
            f"{scores['log_loss']:.3f}" if scores else "—",
            f"{grid['log_loss']:.3f}" if grid else "—",
            ("yes" if scores["top1"] else "no") if scores else "—",
        )
    console.print(table)
    for stage, row in report["summary"].items():
        if row["races"]:
            console.print(
                f"{stage}: log loss {row['log_loss']:.3f} "
                f"({spec_stage(stage).baseline.rule} baseline: {row['baseline_log_loss']:.3f}), "
                f"Brier {row['brier']:.4f}, top-1 "
                f"{row['top1']:.0%} over {row['races']} races"
            )
    console.print(
        f"{len(records)} DAG runs in {seconds / 60:.1f} min; report {out}", soft_wrap=True
    )
    for problem in report["missing"] + [f"run failed: {r}" for r in report["failed_runs"]]:
        errors.print(f"[red]{problem}[/]", soft_wrap=True)
    return 1 if report["missing"] or report["failed_runs"] else 0


def _when(found: dict[str, Any]) -> str:
    if not found.get("stored_at"):
        return "[red]missing[/]"
    stored = dt.datetime.fromisoformat(found["stored_at"])
    mark = "" if found["in_window"] else " [red](late)[/]"
    return f"{stored:%a %d %b %H:%M} v{found['version']}{mark}"


def _log_to_mlflow(report: dict[str, Any], paths: list[Path]) -> str:
    """The report as an MLflow run tagged kind=replay (in the replay's tracking store)."""
    import mlflow

    from models.registry import experiment_id, tracking_uri

    mlflow.set_tracking_uri(tracking_uri())
    name = f"replay {report['season']} R{report['rounds'][0]}–{report['rounds'][1]}"
    with mlflow.start_run(experiment_id=experiment_id("f1_replay"), run_name=name) as run:
        mlflow.set_tags({"kind": "replay", "season": str(report["season"])})
        mlflow.log_params(
            {"season": report["season"], "rounds": "-".join(map(str, report["rounds"]))}
        )
        metrics = {"seconds": report["seconds"], "missing": len(report["missing"])}
        for stage, row in report["summary"].items():
            for key, value in row.items():
                if isinstance(value, int | float):
                    metrics[f"{stage}_{key}"] = float(value)
        mlflow.log_metrics(metrics)
        for path in paths:
            mlflow.log_artifact(str(path))
    return str(run.info.run_id)
