"""`f1 features` and `f1 validate`: build, inspect and check the feature store and the data."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.console import STAGE_HELP, console, fail, known_stage, warehouse_engine

app = typer.Typer(help="The point-in-time feature store.", no_args_is_help=True)

Stage = Annotated[str | None, typer.Option(help=f"{STAGE_HELP[:-1]} (default: all).")]


@app.command()
def build(
    stage: Stage = None,
    since: Annotated[
        int | None, typer.Option(help="Replace published rows from this season.")
    ] = None,
    validate: Annotated[bool, typer.Option(help="Validate the build before publishing.")] = True,
) -> None:
    """Build the view from the warehouse, validate it, and publish it."""
    from pipelines.features import build_features, publish_build, staged_views
    from pipelines.validate import require, validate_features
    from spec import STAGES

    if stage is not None:
        known_stage(stage)
    engine = warehouse_engine()
    staged = build_features(engine, stages=(stage,) if stage else STAGES.names, since=since)
    if validate:
        reports = validate_features(staged_views(staged))
        for report in reports:
            console.print(str(report), soft_wrap=True)
        try:
            require(reports)
        except RuntimeError:
            fail(
                f"features not published: the build failed validation (staged at {staged.staging})"
            )
    manifest = publish_build(staged)
    console.print(
        f"published {manifest.view} build {manifest.build_id}: {len(staged.races)} races changed",
        soft_wrap=True,
    )
    for name, info in manifest.stages.items():
        console.print(
            f"  {name}: {info['rows']:,} rows, {info['races']:,} races, "
            f"{info['first']} … {info['last']}"
        )


@app.command()
def show(
    year: Annotated[int, typer.Argument(help="Season.")],
    round_: Annotated[int, typer.Argument(metavar="ROUND", help="Round.")],
    stage: Annotated[str, typer.Option(help=STAGE_HELP)] = "post_quali",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON records.")] = False,
) -> None:
    """The feature vectors of a race's entrants (store, or built now for a coming race)."""
    from feature_store.online import NoEntrants, get_entry_features
    from feature_store.view import feature_names

    try:
        rows = get_entry_features(warehouse_engine(), year, round_, stage)
    except (NoEntrants, ValueError) as error:
        fail(str(error))
    order = "grid" if "grid" in rows else "driver_elo"
    rows = rows.sort_values(order, ascending=order == "grid")
    if as_json:
        typer.echo(rows.to_json(orient="records", indent=2))
        return
    table = rows.set_index("driver_ref")[["team_ref", *feature_names(stage)]]
    typer.echo(f"{year} round {round_} · {stage} · {len(table)} entrants")
    typer.echo(table.to_string(float_format=lambda v: f"{v:.4g}", na_rep="—"))


@app.command()
def describe() -> None:
    """The view's documentation: every feature's meaning, unit, as-of rule and range."""
    from rich.table import Table

    from feature_store.view import FEATURES, NAME

    table = Table(
        "feature",
        "stages",
        "unit",
        "meaning",
        "as of",
        "null ok",
        "range",
        title=NAME,
        show_lines=True,
    )
    for f in FEATURES:
        table.add_row(
            f.name,
            ", ".join(f.stages),
            f.unit,
            f.meaning,
            f.as_of,
            "yes" if f.nullable else "no",
            f"{f.low} … {f.high}",
        )
    console.print(table)


def validate(
    dataset: Annotated[str | None, typer.Option(help="One dataset (default: all).")] = None,
    season: Annotated[int | None, typer.Option(help="Only this season.")] = None,
) -> None:
    """Run the Great Expectations suites; exit 1 when any fails."""
    from feature_store.build import build_views
    from feature_store.frames import load_frames
    from pipelines.validate import DATASETS, RAW, validate_features, validate_raw

    if dataset is not None and dataset not in DATASETS:
        fail(f"unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    engine = warehouse_engine()
    raw = tuple(d for d in RAW if dataset in (None, d))
    reports = validate_raw(engine, raw, season) if raw else []
    if dataset in (None, "features"):
        reports += validate_features(build_views(load_frames(engine)), season)
    for report in reports:
        console.print(str(report), soft_wrap=True)
    failed = [r.dataset for r in reports if not r.success]
    if failed:
        fail(f"validation failed: {', '.join(failed)}")
    console.print(f"[green]all {len(reports)} suites passed[/]")
