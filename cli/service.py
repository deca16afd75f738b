"""`f1 users create|role|deactivate|activate|password|delete` and `f1 serve`."""

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
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user (the first admin comes from here); asks for the password."""
    from serving.auth import AuthError, create_user

    try:
        user = create_user(warehouse_engine(), email, _password(password_stdin), role)
    except AuthError as error:
        fail(str(error))
    console.print(f"created {user.email} ({user.role})")


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
Email = Annotated[str, typer.Argument(help="The user's email.")]


def _change(email: str, **changes: object) -> None:
    from serving.auth import AuthError, change_user

    try:
        user = change_user(warehouse_engine(), email, **changes)  # type: ignore[arg-type]
    except AuthError as error:
        fail(str(error))
    state = "active" if user.is_active else "deactivated"
    console.print(f"{user.email}: {user.role}, {state}; tokens issued before no longer work")


@users.command("role")
def role(email: Email, new_role: Annotated[str, typer.Argument(metavar="ROLE")]) -> None:
    """Give a user another role (viewer, analyst, editor, admin); ends their sessions."""
    _change(email, role=new_role)


@users.command("deactivate")
def deactivate(email: Email) -> None:
    """Stop a user from signing in; ends their sessions."""
    _change(email, active=False)


@users.command("activate")
def activate(email: Email) -> None:
    """Let a deactivated user sign in again."""
    _change(email, active=True)


@users.command("password")
def password(email: Email, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; ends their sessions."""
    _change(email, password=_password(password_stdin))


@users.command("delete")
def delete(email: Email) -> None:
    """Delete a user; ends their sessions."""
    from serving.auth import AuthError, delete_user

    try:
        delete_user(warehouse_engine(), email)
    except AuthError as error:
        fail(str(error))
    console.print(f"deleted {email}")


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
        # the app itself believes forwarded headers, from F1_SERVICE_TRUSTED_PROXIES only
        proxy_headers=False,
        timeout_keep_alive=settings.keep_alive_s,
        limit_concurrency=settings.max_connections,
    )


apps = typer.Typer(help="The small apps the service hosts (recipes, PTA voting).")


@apps.command("seed")
def seed() -> None:
    """Load the bundled pasta recipes (a re-run changes only what differs)."""
    from pydantic import ValidationError

    from apps.recipes import SEED
    from apps.recipes import seed as seed_recipes

    try:
        counts = seed_recipes(warehouse_engine())
    except ValidationError as error:
        fail(f"{SEED}: {error}")
    console.print(
        f"recipes: {counts['inserted']} inserted, {counts['updated']} updated (from {SEED.name})"
    )
