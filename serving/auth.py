"""Users, passwords (argon2) and tokens (JWT, HS256) of the HTTP API.

A sign-in fails the same way for an unknown email and a wrong password; five failures in a
row lock the account for 15 minutes (tracked in the users table, so every replica agrees).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import IntegrityError

from warehouse.db import as_utc, transaction
from warehouse.schema import ROLES, User

MAX_FAILURES = 5
LOCK = dt.timedelta(minutes=15)
ALGORITHM = "HS256"
_hasher = PasswordHasher()
_bearer = HTTPBearer(auto_error=False)
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))  # verified against for unknown emails


class AuthError(ValueError):
    """A sign-in or sign-up that cannot be accepted (the message is safe to show)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(engine: Engine, email: str, password: str, role: str = "viewer") -> User:
    """A new user; AuthError when the email is taken, the role unknown or the password short."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AuthError("password must have at least 8 characters")
    if "@" not in email or len(email) > 254:
        raise AuthError(f"{email!r} is not an email address")
    user = User(email=email, password_hash=hash_password(password), role=role)
    try:
        with transaction(engine) as session:
            session.add(user)
    except IntegrityError:
        raise AuthError(f"{email} is already registered") from None
    return user


def authenticate(engine: Engine, email: str, password: str) -> User:
    """The user for these credentials, counting failures and honouring the lock.

    A guess is counted before its password is checked, by one atomic UPDATE … RETURNING that
    only succeeds while the account is not locked and fewer than MAX_FAILURES guesses are
    counted: however many arrive at once, at most MAX_FAILURES are evaluated (on SQLite and
    PostgreSQL alike). The slow password hash runs outside any transaction."""
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.is_active:
            verify_password(_DUMMY, password)  # same work whether or not the email exists
            raise AuthError("wrong email or password")
        counted = session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.locked_until.is_(None), User.locked_until <= now),
                User.failed_logins < MAX_FAILURES,
            )
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        locked = session.scalar(select(User.locked_until).where(User.id == user.id))
        session.expunge(user)
    if counted is None:
        until = f"until {as_utc(locked):%H:%M} UTC" if locked and as_utc(locked) > now else "now"
        raise AuthError(f"too many failed sign-ins: locked {until}")
    correct = verify_password(user.password_hash, password)
    with transaction(engine) as session:
        if correct:
            changes: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        elif counted >= MAX_FAILURES:
            changes = {"failed_logins": 0, "locked_until": now + LOCK}
        else:
            changes = {}
        if changes:
            session.execute(update(User).where(User.id == user.id).values(**changes))
    if not correct:
        raise AuthError("wrong email or password")
    return user


def issue_token(user: User, secret: str, minutes: int) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(user.id),
        "email": user.email,
        "role": user.role,
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return sign(claims, secret)


def sign(claims: dict[str, Any], secret: str) -> str:
    """A signed token carrying `claims` (which must hold `exp`)."""
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, audience: str | None = None) -> dict[str, Any]:
    """The token's claims; HTTP 401 when it is forged, malformed or expired, or when its
    audience is not `audience` (a token with an audience is refused where none is asked)."""
    required = ["exp", "aud", "sub"] if audience else ["exp"]
    try:
        return jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=audience, options={"require": required}
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("token expired") from None
    except jwt.InvalidTokenError:
        raise unauthorized("invalid token") from None


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def optional_claims(  # async: CPU only, so no threadpool hop
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any] | None:
    """The caller's claims when a token is sent (and valid), else None."""
    if credentials is None:
        return None
    return decode_token(credentials.credentials, request.app.state.jwt_secret)


async def current_claims(
    claims: Annotated[dict[str, Any] | None, Depends(optional_claims)],
) -> dict[str, Any]:
    """The signed-in caller's claims; 401 without a token."""
    if claims is None:
        raise unauthorized("sign in: send Authorization: Bearer <token>")
    return claims


def require(*roles: str) -> Any:
    """A dependency admitting only callers whose role is one of `roles` (403 otherwise)."""

    async def check(
        claims: Annotated[dict[str, Any], Depends(current_claims)],
    ) -> dict[str, Any]:
        if claims.get("role") not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"needs the role {' or '.join(roles)}; you are {claims.get('role')}",
            )
        return claims

    return Depends(check)
