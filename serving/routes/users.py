"""Sign-up, sign-in, and the admin's model controls (reload, promote, rollback)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from models.registry import PromotionError, alias_version, model_name
from models.registry import move_champion as registry_move
from serving.auth import AuthError, authenticate, create_user, issue_token, require
from serving.deps import EngineDep
from serving.served import ServedModels
from warehouse import model_events as events

router = APIRouter(tags=["auth"])
admin = APIRouter(prefix="/models", tags=["models"])
ADMIN = require("admin")


class Credentials(BaseModel):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    password: str = Field(min_length=8, max_length=256)


class UserOut(BaseModel):
    id: int
    email: str
    role: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "email already registered"}},
)
def register(engine: EngineDep, body: Credentials) -> UserOut:
    """Create an account with the viewer role (an admin grants more with `f1 users`)."""
    try:
        user = create_user(engine, body.email, body.password, "viewer")
    except AuthError as error:
        raise HTTPException(409, str(error)) from None
    return UserOut(id=user.id, email=user.email, role=user.role)


@router.post("/auth/login", responses={401: {"description": "wrong email or password"}})
def login(request: Request, engine: EngineDep, body: Credentials) -> Token:
    """A bearer token for these credentials (5 failures lock the account for 15 minutes)."""
    try:
        user = authenticate(engine, body.email, body.password)
    except AuthError as error:
        code = 423 if "locked" in str(error) else 401
        raise HTTPException(code, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    minutes = request.app.state.settings.token_minutes
    token = issue_token(user, request.app.state.jwt_secret, minutes)
    return Token(access_token=token, expires_in=minutes * 60, role=user.role)


class Promotion(BaseModel):
    stage: str = Field(pattern="^(pre_quali|post_quali)$")
    version: str = Field(pattern=r"^\d+$")
    reason: str = Field(default="promoted by an admin", max_length=500)


class Rollback(BaseModel):
    stage: str = Field(pattern="^(pre_quali|post_quali)$")


class Served(BaseModel):
    models: dict[str, dict[str, str]]
    errors: dict[str, str]


class Move(BaseModel):
    name: str
    champion: str
    previous: str | None
    action: str
    served: Served


def _reload(request: Request) -> dict[str, Any]:
    models: ServedModels = request.app.state.models
    return models.reload()


@admin.post("/reload", dependencies=[ADMIN])
def reload(request: Request) -> Served:
    """Load the versions the aliases now point to; a failed load keeps the old model."""
    return Served(**_reload(request))


def _move(
    request: Request, engine: EngineDep, claims: dict[str, Any], stage: str, version: str,
    action: str, reason: str, evidence: dict[str, Any],
) -> Move:  # fmt: skip
    name = model_name(stage)
    actor = f"api:{claims.get('email')}"
    try:
        event = registry_move(
            name, version, action, reason, evidence, actor,
            lambda previous, when: events.record(
                engine, name, version, previous, action, reason, evidence, actor, when
            ),
        )  # fmt: skip
    except PromotionError as error:
        raise HTTPException(404, str(error)) from None
    return Move(
        name=name,
        champion=event.version,
        previous=event.previous_version,
        action=action,
        served=Served(**_reload(request)),
    )


Admin = Annotated[dict[str, Any], ADMIN]


@admin.post("/promote", responses={404: {"description": "no such version"}})
def promote(request: Request, engine: EngineDep, claims: Admin, body: Promotion) -> Move:
    """Make a version the champion of its stage (recorded), then serve it."""
    return _move(request, engine, claims, body.stage, body.version, "manual", body.reason, {})


@admin.post("/rollback", responses={409: {"description": "nothing to roll back to"}})
def rollback(request: Request, engine: EngineDep, claims: Admin, body: Rollback) -> Move:
    """Bring back the previous champion of a stage (recorded), then serve it."""
    name = model_name(body.stage)
    current = alias_version(name, "champion")
    previous = events.previous_champion(events.history(engine, name), current)
    if previous is None:
        raise HTTPException(409, f"{name} @champion v{current} has no earlier champion to restore")
    reason = f"rolled back from version {current}"
    return _move(
        request, engine, claims, body.stage, previous, "rollback", reason, {"from": current}
    )
