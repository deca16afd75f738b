"""`f1 users create` and `f1 serve`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.console import console, fail, warehouse_engine

users = typer.Typer(help="API users.")


@users.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The user's email (their sign-in name).")],
    role: Annotated[str, typer.Option(help="viewer, analyst, editor or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user (the first admin comes from here); asks for the password."""
    from serving.auth import AuthError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(warehouse_engine(), email, password, role)
    except AuthError as error:
        fail(str(error))
    console.print(f"created {user.email} ({user.role})")


def serve(
    host: Annotated[str | None, typer.Option(help="Default F1_SERVICE_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default F1_SERVICE_PORT or 8000.")] = None,
) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    from serving.settings import ServiceSettings

    settings = ServiceSettings()
    uvicorn.run(
        "serving.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
    )


apps = typer.Typer(help="The small apps the service hosts (recipes, PTA voting).")


@apps.command("seed")
def seed() -> None:
    """Load the bundled pasta recipes (a re-run changes only what differs)."""
    from pydantic import ValidationError

    from serving.recipes import SEED
    from serving.recipes import seed as seed_recipes

    try:
        counts = seed_recipes(warehouse_engine())
    except ValidationError as error:
        fail(f"{SEED}: {error}")
    console.print(
        f"recipes: {counts['inserted']} inserted, {counts['updated']} updated (from {SEED.name})"
    )
