"""Sign-up, sign-in, and the admin's model controls (reload, promote, rollback)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi import Path as FastPath
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from models.registry import PromotionError, alias_version, model_name
from models.registry import move_champion as registry_move
from serving.auth import (
    DEVICE_COOKIE,
    AuthError,
    EmailTaken,
    Throttled,
    admit_registration,
    authenticate,
    change_user,
    create_user,
    current_claims,
    delete_user,
    issue_token,
    require,
    revoke,
    set_device_cookie,
)
from serving.deps import EngineDep, SessionRoute, platform_of
from serving.inputs import Email
from serving.names import StageName
from serving.served import ServedModels
from warehouse import model_events as events
from warehouse import queries

router = APIRouter(route_class=SessionRoute, tags=["auth"])
admin = APIRouter(route_class=SessionRoute, prefix="/models", tags=["models"])
ADMIN = require("admin")
Admin = Annotated[dict[str, Any], ADMIN]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    email: Email
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


class Registered(BaseModel):
    email: str
    detail: str


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _too_many(error: Throttled) -> HTTPException:
    return HTTPException(429, str(error), headers={"Retry-After": str(error.retry_after)})


THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many attempts from this client or for this account"}
}


@router.post("/auth/register", status_code=status.HTTP_202_ACCEPTED, responses=THROTTLED)
def register(request: Request, engine: EngineDep, body: Credentials) -> Registered:
    """Create an account with the viewer role (an admin grants more with `f1 users`).

    The answer is the same whether or not the email was registered already, so that nobody
    learns which accounts exist; an existing account is left as it was. Sign in to use it."""
    try:
        admit_registration(engine, platform_of(request).jwt_secret, _client(request))
        create_user(engine, body.email, body.password, "viewer")
    except Throttled as error:
        raise _too_many(error) from None
    except EmailTaken:
        pass
    except AuthError as error:
        raise HTTPException(422, str(error)) from None
    return Registered(
        email=body.email.strip().lower(),
        detail="unless this email was registered already, its viewer account now exists: "
        "sign in with these credentials",
    )


@router.post(
    "/auth/login",
    responses={401: {"description": "wrong email or password"}, **THROTTLED},
)
def login(request: Request, response: Response, engine: EngineDep, body: Credentials) -> Token:
    """A bearer token for these credentials; the answer also sets a device cookie, so that
    guesses by others never lock this client out (docs/SECURITY.md)."""
    secret = platform_of(request).jwt_secret
    device = request.cookies.get(DEVICE_COOKIE)
    try:
        user = authenticate(engine, body.email, body.password, secret, _client(request), device)
    except Throttled as error:
        raise _too_many(error) from None
    except AuthError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    set_device_cookie(response, request, user.email, secret)
    minutes = platform_of(request).settings.token_minutes
    token = issue_token(user, secret, minutes)
    return Token(access_token=token, expires_in=minutes * 60, role=user.role)


Signed = Annotated[dict[str, Any], Depends(current_claims)]


@router.post("/auth/logout", status_code=204)
def logout(request: Request, engine: EngineDep, claims: Signed) -> Response:
    """End this token's session now: it is refused from the next request on (it would
    otherwise work until it expires)."""
    revoke(engine, claims)
    return Response(status_code=204)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    current: str = Field(min_length=1, max_length=256)
    new: str = Field(min_length=8, max_length=256)


@router.post(
    "/auth/password", responses={401: {"description": "wrong current password"}, **THROTTLED}
)
def change_password(
    request: Request, engine: EngineDep, claims: Signed, body: PasswordChange
) -> Token:
    """Change your password: every token issued before stops working; here is a new one."""
    secret = platform_of(request).jwt_secret
    try:
        device = request.cookies.get(DEVICE_COOKIE)
        authenticate(
            engine, claims["email"], body.current, secret, _client(request), device, signed_in=True
        )
    except Throttled as error:
        raise _too_many(error) from None
    except AuthError:
        raise HTTPException(401, "wrong current password") from None
    user = change_user(engine, claims["email"], password=body.new)
    minutes = platform_of(request).settings.token_minutes
    return Token(access_token=issue_token(user, secret, minutes), expires_in=minutes * 60,
                 role=user.role)  # fmt: skip


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    role: Literal["viewer", "analyst", "editor", "admin"] | None = None
    active: bool | None = None


class UserRow(UserOut):
    active: bool


UserId = Annotated[int, FastPath(ge=1, le=2**31 - 1)]
accounts = APIRouter(route_class=SessionRoute, prefix="/users", tags=["auth"])


def _email_of(engine: EngineDep, user_id: int) -> str:
    with Session(engine) as session:
        email = queries.user_email(session, user_id)
    if email is None:
        raise HTTPException(404, f"no user {user_id}")
    return email


@accounts.get("", dependencies=[ADMIN])
def list_users(engine: EngineDep) -> list[UserRow]:
    """Every user, oldest first."""
    with Session(engine) as session:
        users = queries.users(session)
    return [UserRow(id=u.id, email=u.email, role=u.role, active=u.is_active) for u in users]


def _not_yourself(claims: dict[str, Any], user_id: int, what: str) -> None:
    if str(user_id) == str(claims.get("sub")):
        raise HTTPException(409, f"you cannot {what} yourself: ask another admin")


USER_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such user"},
    409: {"description": "an admin cannot demote, deactivate or delete themselves"},
}


@accounts.patch("/{user_id}", responses=USER_ERRORS)
def update_user(engine: EngineDep, claims: Admin, user_id: UserId, body: UserChange) -> UserRow:
    """Change a user's role or activity: their tokens stop working at once."""
    if body.role not in (None, "admin") or body.active is False:
        _not_yourself(claims, user_id, "demote or deactivate")
    user = change_user(engine, _email_of(engine, user_id), role=body.role, active=body.active)
    return UserRow(id=user.id, email=user.email, role=user.role, active=user.is_active)


@accounts.delete("/{user_id}", status_code=204, responses=USER_ERRORS)
def remove_user(engine: EngineDep, claims: Admin, user_id: UserId) -> None:
    """Delete a user: their tokens stop working at once."""
    _not_yourself(claims, user_id, "delete")
    delete_user(engine, _email_of(engine, user_id))


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    stage: StageName
    version: str = Field(pattern=r"^\d+$")
    reason: str = Field(default="promoted by an admin", max_length=500)


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    stage: StageName


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
    models: ServedModels = platform_of(request).models
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
