"""`f1 db`: migrate, back up and restore the warehouse."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from cli.console import console, fail, working

if TYPE_CHECKING:
    from warehouse.backup import Report

app = typer.Typer(
    help="Warehouse schema migrations (Alembic), backups and restores.", no_args_is_help=True
)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the warehouse up to REVISION (default: the newest)."""
    from warehouse.db import make_engine
    from warehouse.migrate import current_revision
    from warehouse.migrate import upgrade as run_upgrade

    engine = make_engine()
    run_upgrade(engine, revision)
    console.print(f"warehouse at revision {current_revision(engine)} ({_safe_url(engine)})")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` drops every table.")],
) -> None:
    """Migrate the warehouse down to REVISION."""
    from warehouse.db import make_engine
    from warehouse.migrate import current_revision
    from warehouse.migrate import downgrade as run_downgrade

    engine = make_engine()
    run_downgrade(engine, revision)
    console.print(
        f"warehouse at revision {current_revision(engine) or 'base'} ({_safe_url(engine)})"
    )


@app.command()
def current() -> None:
    """Print the warehouse's revision and the newest one known."""
    from warehouse.db import make_engine
    from warehouse.migrate import current_revision, head_revision

    engine = make_engine()
    console.print(f"current: {current_revision(engine) or 'base'}  head: {head_revision()}")


@app.command()
def backup(
    location: Annotated[
        str | None,
        typer.Argument(
            help="A file or s3://bucket/key (default: <F1_ARTIFACTS_URL>/backups/"
            "warehouse-<UTC time>.dump)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """A consistent backup of the warehouse while it runs (pg_dump on PostgreSQL, the backup
    API on SQLite), with a manifest of every table's rows."""
    import datetime as dt

    from spec.settings import WarehouseSettings
    from warehouse.backup import BackupError
    from warehouse.backup import backup as run_backup
    from warehouse.db import make_engine

    if location is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        location = f"{WarehouseSettings().artifacts_url}/backups/warehouse-{stamp}.dump"
    engine = make_engine()
    try:
        with working(f"backing up {_safe_url(engine)}"):
            report = run_backup(engine, location)
    except BackupError as error:
        fail(str(error))
    finally:
        engine.dispose()
    _report("backed up", report, as_json)


@app.command()
def restore(
    location: Annotated[str, typer.Argument(help="The backup: a file or s3://bucket/key.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a warehouse that holds rows.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Restore a backup, all or nothing, and check every table holds the rows its manifest
    lists."""
    from warehouse.backup import BackupError
    from warehouse.backup import restore as run_restore
    from warehouse.db import make_engine

    engine = make_engine()
    try:
        with working(f"restoring into {_safe_url(engine)}"):
            report = run_restore(engine, location, force=force)
    except BackupError as error:
        fail(str(error))
    finally:
        engine.dispose()
    _report("restored", report, as_json)


def _report(done: str, report: Report, as_json: bool) -> None:
    manifest = report.manifest
    if as_json:
        figures = asdict(manifest) | {"location": report.location, "rows": manifest.rows}
        typer.echo(json.dumps(figures | {"seconds": round(report.seconds, 2)}))
        return
    console.print(
        f"{done} {manifest.rows:,} rows in {len(manifest.tables)} tables "
        f"({manifest.backend}, revision {manifest.revision or 'base'}, "
        f"{manifest.bytes / 1e6:.1f} MB) in {report.seconds:.1f} s: {report.location}"
    )


def _safe_url(engine: object) -> str:
    return engine.url.render_as_string(hide_password=True)  # type: ignore[attr-defined]
