"""`f1 db`: migrate the warehouse schema."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.console import console

app = typer.Typer(help="Warehouse schema migrations (Alembic).", no_args_is_help=True)


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


def _safe_url(engine: object) -> str:
    return engine.url.render_as_string(hide_password=True)  # type: ignore[attr-defined]
